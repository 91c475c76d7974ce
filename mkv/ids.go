package mkv

import "fmt"

// ID is an EBML element ID as it appears on the wire, length marker included
// (the Segment is 0x18538067, not 0x08538067).
type ID uint32

// Type is the data type of an element, as the EBML schema declares it
// (RFC 8794 section 7).
type Type uint8

// The element types. TypeBlock marks SimpleBlock and Block, binary elements
// whose contents the decoder splits into frames.
const (
	TypeUnknown Type = iota
	TypeMaster
	TypeUint
	TypeInt
	TypeFloat
	TypeString
	TypeUTF8
	TypeDate
	TypeBinary
	TypeBlock
)

var typeNames = [...]string{"unknown", "master", "uint", "int", "float", "string", "utf-8", "date", "binary", "block"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// The elements the decoder knows, from RFC 8794 (EBML) and the Matroska
// specification (RFC 9559). Elements outside this list are skipped when their
// size is known and reported with an Event of kind Skip.
const (
	// EBML header and global elements (RFC 8794 sections 11.2 and 11.3).
	IDEBML               ID = 0x1A45DFA3
	IDEBMLVersion        ID = 0x4286
	IDEBMLReadVersion    ID = 0x42F7
	IDEBMLMaxIDLength    ID = 0x42F2
	IDEBMLMaxSizeLength  ID = 0x42F3
	IDDocType            ID = 0x4282
	IDDocTypeVersion     ID = 0x4287
	IDDocTypeReadVersion ID = 0x4285
	IDDocTypeExtension   ID = 0x4281
	IDDocTypeExtName     ID = 0x4283
	IDDocTypeExtVersion  ID = 0x4284
	IDCRC32              ID = 0xBF
	IDVoid               ID = 0xEC

	// Segment and its top-level children.
	IDSegment     ID = 0x18538067
	IDSeekHead    ID = 0x114D9B74
	IDSeek        ID = 0x4DBB
	IDSeekID      ID = 0x53AB
	IDSeekPos     ID = 0x53AC
	IDInfo        ID = 0x1549A966
	IDTracks      ID = 0x1654AE6B
	IDCluster     ID = 0x1F43B675
	IDCues        ID = 0x1C53BB6B
	IDAttachments ID = 0x1941A469
	IDChapters    ID = 0x1043A770
	IDTags        ID = 0x1254C367

	// Info.
	IDSegmentUID      ID = 0x73A4
	IDSegmentFilename ID = 0x7384
	IDPrevUID         ID = 0x3CB923
	IDPrevFilename    ID = 0x3C83AB
	IDNextUID         ID = 0x3EB923
	IDNextFilename    ID = 0x3E83BB
	IDSegmentFamily   ID = 0x4444
	IDTimecodeScale   ID = 0x2AD7B1
	IDDuration        ID = 0x4489
	IDDateUTC         ID = 0x4461
	IDTitle           ID = 0x7BA9
	IDMuxingApp       ID = 0x4D80
	IDWritingApp      ID = 0x5741

	// Cluster.
	IDTimecode          ID = 0xE7
	IDSilentTracks      ID = 0x5854
	IDSilentTrackNumber ID = 0x58D7
	IDPosition          ID = 0xA7
	IDPrevSize          ID = 0xAB
	IDSimpleBlock       ID = 0xA3
	IDBlockGroup        ID = 0xA0
	IDBlock             ID = 0xA1
	IDBlockAdditions    ID = 0x75A1
	IDBlockMore         ID = 0xA6
	IDBlockAddID        ID = 0xEE
	IDBlockAdditional   ID = 0xA5
	IDBlockDuration     ID = 0x9B
	IDReferencePriority ID = 0xFA
	IDReferenceBlock    ID = 0xFB
	IDCodecState        ID = 0xA4
	IDDiscardPadding    ID = 0x75A2

	// Tracks.
	IDTrackEntry                  ID = 0xAE
	IDTrackNumber                 ID = 0xD7
	IDTrackUID                    ID = 0x73C5
	IDTrackType                   ID = 0x83
	IDFlagEnabled                 ID = 0xB9
	IDFlagDefault                 ID = 0x88
	IDFlagForced                  ID = 0x55AA
	IDFlagLacing                  ID = 0x9C
	IDMinCache                    ID = 0x6DE7
	IDMaxCache                    ID = 0x6DF8
	IDDefaultDuration             ID = 0x23E383
	IDDefaultDecodedFieldDuration ID = 0x234E7A
	IDTrackTimecodeScale          ID = 0x23314F
	IDMaxBlockAdditionID          ID = 0x55EE
	IDName                        ID = 0x536E
	IDLanguage                    ID = 0x22B59C
	IDLanguageBCP47               ID = 0x22B59D
	IDCodecID                     ID = 0x86
	IDCodecPrivate                ID = 0x63A2
	IDCodecName                   ID = 0x258688
	IDAttachmentLink              ID = 0x7446
	IDCodecDecodeAll              ID = 0xAA
	IDTrackOverlay                ID = 0x6FAB
	IDCodecDelay                  ID = 0x56AA
	IDSeekPreRoll                 ID = 0x56BB
	IDVideo                       ID = 0xE0
	IDFlagInterlaced              ID = 0x9A
	IDFieldOrder                  ID = 0x9D
	IDStereoMode                  ID = 0x53B8
	IDAlphaMode                   ID = 0x53C0
	IDPixelWidth                  ID = 0xB0
	IDPixelHeight                 ID = 0xBA
	IDPixelCropBottom             ID = 0x54AA
	IDPixelCropTop                ID = 0x54BB
	IDPixelCropLeft               ID = 0x54CC
	IDPixelCropRight              ID = 0x54DD
	IDDisplayWidth                ID = 0x54B0
	IDDisplayHeight               ID = 0x54BA
	IDDisplayUnit                 ID = 0x54B2
	IDAspectRatioType             ID = 0x54B3
	IDColour                      ID = 0x55B0
	IDAudio                       ID = 0xE1
	IDSamplingFrequency           ID = 0xB5
	IDOutputSamplingFrequency     ID = 0x78B5
	IDChannels                    ID = 0x9F
	IDBitDepth                    ID = 0x6264
	IDContentEncodings            ID = 0x6D80

	// Cues.
	IDCuePoint           ID = 0xBB
	IDCueTime            ID = 0xB3
	IDCueTrackPositions  ID = 0xB7
	IDCueTrack           ID = 0xF7
	IDCueClusterPosition ID = 0xF1
	IDCueRelativePos     ID = 0xF0
	IDCueDuration        ID = 0xB2
	IDCueBlockNumber     ID = 0x5378

	// Attachments.
	IDAttachedFile    ID = 0x61A7
	IDFileDescription ID = 0x467E
	IDFileName        ID = 0x466E
	IDFileMimeType    ID = 0x4660
	IDFileData        ID = 0x465C
	IDFileUID         ID = 0x46AE

	// Chapters.
	IDEditionEntry ID = 0x45B9

	// Tags.
	IDTag              ID = 0x7373
	IDTargets          ID = 0x63C0
	IDTargetTypeValue  ID = 0x68CA
	IDTargetType       ID = 0x63CA
	IDTagTrackUID      ID = 0x63C5
	IDTagEditionUID    ID = 0x63C9
	IDTagChapterUID    ID = 0x63C4
	IDTagAttachmentUID ID = 0x63C6
	IDSimpleTag        ID = 0x67C8
	IDTagName          ID = 0x45A3
	IDTagLanguage      ID = 0x447A
	IDTagLanguageBCP47 ID = 0x447B
	IDTagDefault       ID = 0x4484
	IDTagDefaultBogus  ID = 0x44B4
	IDTagString        ID = 0x4487
	IDTagBinary        ID = 0x4485
)

// DefaultTimecodeScale is the value of Info/TimecodeScale when a Segment
// does not carry one: one tick is 1,000,000 ns.
const DefaultTimecodeScale = 1_000_000

// def describes one element of the schema.
type def struct {
	name   string
	typ    Type
	parent ID // 0 for root elements and for global ones
	flags  defFlags
}

type defFlags uint8

const (
	global      defFlags = 1 << iota // may appear in any master (CRC-32, Void)
	recursive                        // may be its own child (SimpleTag)
	unknownSize                      // may have an unknown size (Segment, Cluster)
)

var schema = map[ID]def{
	IDEBML:               {"EBML", TypeMaster, 0, 0},
	IDEBMLVersion:        {"EBMLVersion", TypeUint, IDEBML, 0},
	IDEBMLReadVersion:    {"EBMLReadVersion", TypeUint, IDEBML, 0},
	IDEBMLMaxIDLength:    {"EBMLMaxIDLength", TypeUint, IDEBML, 0},
	IDEBMLMaxSizeLength:  {"EBMLMaxSizeLength", TypeUint, IDEBML, 0},
	IDDocType:            {"DocType", TypeString, IDEBML, 0},
	IDDocTypeVersion:     {"DocTypeVersion", TypeUint, IDEBML, 0},
	IDDocTypeReadVersion: {"DocTypeReadVersion", TypeUint, IDEBML, 0},
	IDDocTypeExtension:   {"DocTypeExtension", TypeMaster, IDEBML, 0},
	IDDocTypeExtName:     {"DocTypeExtensionName", TypeString, IDDocTypeExtension, 0},
	IDDocTypeExtVersion:  {"DocTypeExtensionVersion", TypeUint, IDDocTypeExtension, 0},
	IDCRC32:              {"CRC-32", TypeBinary, 0, global},
	IDVoid:               {"Void", TypeBinary, 0, global},

	IDSegment:     {"Segment", TypeMaster, 0, unknownSize},
	IDSeekHead:    {"SeekHead", TypeMaster, IDSegment, 0},
	IDSeek:        {"Seek", TypeMaster, IDSeekHead, 0},
	IDSeekID:      {"SeekID", TypeBinary, IDSeek, 0},
	IDSeekPos:     {"SeekPosition", TypeUint, IDSeek, 0},
	IDInfo:        {"Info", TypeMaster, IDSegment, 0},
	IDTracks:      {"Tracks", TypeMaster, IDSegment, 0},
	IDCluster:     {"Cluster", TypeMaster, IDSegment, unknownSize},
	IDCues:        {"Cues", TypeMaster, IDSegment, 0},
	IDAttachments: {"Attachments", TypeMaster, IDSegment, 0},
	IDChapters:    {"Chapters", TypeMaster, IDSegment, 0},
	IDTags:        {"Tags", TypeMaster, IDSegment, 0},

	IDSegmentUID:      {"SegmentUID", TypeBinary, IDInfo, 0},
	IDSegmentFilename: {"SegmentFilename", TypeUTF8, IDInfo, 0},
	IDPrevUID:         {"PrevUID", TypeBinary, IDInfo, 0},
	IDPrevFilename:    {"PrevFilename", TypeUTF8, IDInfo, 0},
	IDNextUID:         {"NextUID", TypeBinary, IDInfo, 0},
	IDNextFilename:    {"NextFilename", TypeUTF8, IDInfo, 0},
	IDSegmentFamily:   {"SegmentFamily", TypeBinary, IDInfo, 0},
	IDTimecodeScale:   {"TimecodeScale", TypeUint, IDInfo, 0},
	IDDuration:        {"Duration", TypeFloat, IDInfo, 0},
	IDDateUTC:         {"DateUTC", TypeDate, IDInfo, 0},
	IDTitle:           {"Title", TypeUTF8, IDInfo, 0},
	IDMuxingApp:       {"MuxingApp", TypeUTF8, IDInfo, 0},
	IDWritingApp:      {"WritingApp", TypeUTF8, IDInfo, 0},

	IDTimecode:          {"Timecode", TypeUint, IDCluster, 0},
	IDSilentTracks:      {"SilentTracks", TypeMaster, IDCluster, 0},
	IDSilentTrackNumber: {"SilentTrackNumber", TypeUint, IDSilentTracks, 0},
	IDPosition:          {"Position", TypeUint, IDCluster, 0},
	IDPrevSize:          {"PrevSize", TypeUint, IDCluster, 0},
	IDSimpleBlock:       {"SimpleBlock", TypeBlock, IDCluster, 0},
	IDBlockGroup:        {"BlockGroup", TypeMaster, IDCluster, 0},
	IDBlock:             {"Block", TypeBlock, IDBlockGroup, 0},
	IDBlockAdditions:    {"BlockAdditions", TypeMaster, IDBlockGroup, 0},
	IDBlockMore:         {"BlockMore", TypeMaster, IDBlockAdditions, 0},
	IDBlockAddID:        {"BlockAddID", TypeUint, IDBlockMore, 0},
	IDBlockAdditional:   {"BlockAdditional", TypeBinary, IDBlockMore, 0},
	IDBlockDuration:     {"BlockDuration", TypeUint, IDBlockGroup, 0},
	IDReferencePriority: {"ReferencePriority", TypeUint, IDBlockGroup, 0},
	IDReferenceBlock:    {"ReferenceBlock", TypeInt, IDBlockGroup, 0},
	IDCodecState:        {"CodecState", TypeBinary, IDBlockGroup, 0},
	IDDiscardPadding:    {"DiscardPadding", TypeInt, IDBlockGroup, 0},

	IDTrackEntry:                  {"TrackEntry", TypeMaster, IDTracks, 0},
	IDTrackNumber:                 {"TrackNumber", TypeUint, IDTrackEntry, 0},
	IDTrackUID:                    {"TrackUID", TypeUint, IDTrackEntry, 0},
	IDTrackType:                   {"TrackType", TypeUint, IDTrackEntry, 0},
	IDFlagEnabled:                 {"FlagEnabled", TypeUint, IDTrackEntry, 0},
	IDFlagDefault:                 {"FlagDefault", TypeUint, IDTrackEntry, 0},
	IDFlagForced:                  {"FlagForced", TypeUint, IDTrackEntry, 0},
	IDFlagLacing:                  {"FlagLacing", TypeUint, IDTrackEntry, 0},
	IDMinCache:                    {"MinCache", TypeUint, IDTrackEntry, 0},
	IDMaxCache:                    {"MaxCache", TypeUint, IDTrackEntry, 0},
	IDDefaultDuration:             {"DefaultDuration", TypeUint, IDTrackEntry, 0},
	IDDefaultDecodedFieldDuration: {"DefaultDecodedFieldDuration", TypeUint, IDTrackEntry, 0},
	IDTrackTimecodeScale:          {"TrackTimecodeScale", TypeFloat, IDTrackEntry, 0},
	IDMaxBlockAdditionID:          {"MaxBlockAdditionID", TypeUint, IDTrackEntry, 0},
	IDName:                        {"Name", TypeUTF8, IDTrackEntry, 0},
	IDLanguage:                    {"Language", TypeString, IDTrackEntry, 0},
	IDLanguageBCP47:               {"LanguageBCP47", TypeString, IDTrackEntry, 0},
	IDCodecID:                     {"CodecID", TypeString, IDTrackEntry, 0},
	IDCodecPrivate:                {"CodecPrivate", TypeBinary, IDTrackEntry, 0},
	IDCodecName:                   {"CodecName", TypeUTF8, IDTrackEntry, 0},
	IDAttachmentLink:              {"AttachmentLink", TypeUint, IDTrackEntry, 0},
	IDCodecDecodeAll:              {"CodecDecodeAll", TypeUint, IDTrackEntry, 0},
	IDTrackOverlay:                {"TrackOverlay", TypeUint, IDTrackEntry, 0},
	IDCodecDelay:                  {"CodecDelay", TypeUint, IDTrackEntry, 0},
	IDSeekPreRoll:                 {"SeekPreRoll", TypeUint, IDTrackEntry, 0},
	IDVideo:                       {"Video", TypeMaster, IDTrackEntry, 0},
	IDFlagInterlaced:              {"FlagInterlaced", TypeUint, IDVideo, 0},
	IDFieldOrder:                  {"FieldOrder", TypeUint, IDVideo, 0},
	IDStereoMode:                  {"StereoMode", TypeUint, IDVideo, 0},
	IDAlphaMode:                   {"AlphaMode", TypeUint, IDVideo, 0},
	IDPixelWidth:                  {"PixelWidth", TypeUint, IDVideo, 0},
	IDPixelHeight:                 {"PixelHeight", TypeUint, IDVideo, 0},
	IDPixelCropBottom:             {"PixelCropBottom", TypeUint, IDVideo, 0},
	IDPixelCropTop:                {"PixelCropTop", TypeUint, IDVideo, 0},
	IDPixelCropLeft:               {"PixelCropLeft", TypeUint, IDVideo, 0},
	IDPixelCropRight:              {"PixelCropRight", TypeUint, IDVideo, 0},
	IDDisplayWidth:                {"DisplayWidth", TypeUint, IDVideo, 0},
	IDDisplayHeight:               {"DisplayHeight", TypeUint, IDVideo, 0},
	IDDisplayUnit:                 {"DisplayUnit", TypeUint, IDVideo, 0},
	IDAspectRatioType:             {"AspectRatioType", TypeUint, IDVideo, 0},
	IDColour:                      {"Colour", TypeMaster, IDVideo, 0},
	IDAudio:                       {"Audio", TypeMaster, IDTrackEntry, 0},
	IDSamplingFrequency:           {"SamplingFrequency", TypeFloat, IDAudio, 0},
	IDOutputSamplingFrequency:     {"OutputSamplingFrequency", TypeFloat, IDAudio, 0},
	IDChannels:                    {"Channels", TypeUint, IDAudio, 0},
	IDBitDepth:                    {"BitDepth", TypeUint, IDAudio, 0},
	IDContentEncodings:            {"ContentEncodings", TypeMaster, IDTrackEntry, 0},

	IDCuePoint:           {"CuePoint", TypeMaster, IDCues, 0},
	IDCueTime:            {"CueTime", TypeUint, IDCuePoint, 0},
	IDCueTrackPositions:  {"CueTrackPositions", TypeMaster, IDCuePoint, 0},
	IDCueTrack:           {"CueTrack", TypeUint, IDCueTrackPositions, 0},
	IDCueClusterPosition: {"CueClusterPosition", TypeUint, IDCueTrackPositions, 0},
	IDCueRelativePos:     {"CueRelativePosition", TypeUint, IDCueTrackPositions, 0},
	IDCueDuration:        {"CueDuration", TypeUint, IDCueTrackPositions, 0},
	IDCueBlockNumber:     {"CueBlockNumber", TypeUint, IDCueTrackPositions, 0},

	IDAttachedFile:    {"AttachedFile", TypeMaster, IDAttachments, 0},
	IDFileDescription: {"FileDescription", TypeUTF8, IDAttachedFile, 0},
	IDFileName:        {"FileName", TypeUTF8, IDAttachedFile, 0},
	IDFileMimeType:    {"FileMimeType", TypeString, IDAttachedFile, 0},
	IDFileData:        {"FileData", TypeBinary, IDAttachedFile, 0},
	IDFileUID:         {"FileUID", TypeUint, IDAttachedFile, 0},

	IDEditionEntry: {"EditionEntry", TypeMaster, IDChapters, 0},

	IDTag:              {"Tag", TypeMaster, IDTags, 0},
	IDTargets:          {"Targets", TypeMaster, IDTag, 0},
	IDTargetTypeValue:  {"TargetTypeValue", TypeUint, IDTargets, 0},
	IDTargetType:       {"TargetType", TypeString, IDTargets, 0},
	IDTagTrackUID:      {"TagTrackUID", TypeUint, IDTargets, 0},
	IDTagEditionUID:    {"TagEditionUID", TypeUint, IDTargets, 0},
	IDTagChapterUID:    {"TagChapterUID", TypeUint, IDTargets, 0},
	IDTagAttachmentUID: {"TagAttachmentUID", TypeUint, IDTargets, 0},
	IDSimpleTag:        {"SimpleTag", TypeMaster, IDTag, recursive},
	IDTagName:          {"TagName", TypeUTF8, IDSimpleTag, 0},
	IDTagLanguage:      {"TagLanguage", TypeString, IDSimpleTag, 0},
	IDTagLanguageBCP47: {"TagLanguageBCP47", TypeString, IDSimpleTag, 0},
	IDTagDefault:       {"TagDefault", TypeUint, IDSimpleTag, 0},
	IDTagDefaultBogus:  {"TagDefaultBogus", TypeUint, IDSimpleTag, 0},
	IDTagString:        {"TagString", TypeUTF8, IDSimpleTag, 0},
	IDTagBinary:        {"TagBinary", TypeBinary, IDSimpleTag, 0},
}

// index is the schema as an open-addressing hash table, which the decoder
// consults for every element: slot h(id) holds 1 + the position of id's
// entry in entries, or 0 for none; a taken slot passes to the next.
var index, entries = buildIndex()

// indexBits sizes index at four slots or more per element of the schema,
// so that most look-ups probe one slot.
const indexBits = 10

type entry struct {
	id ID
	d  def
}

func buildIndex() (*[1 << indexBits]uint16, []entry) {
	var index [1 << indexBits]uint16
	entries := make([]entry, 0, len(schema))
	for id, d := range schema {
		entries = append(entries, entry{id, d})
		h := slotOf(id)
		for index[h] != 0 {
			h = (h + 1) & (1<<indexBits - 1)
		}
		index[h] = uint16(len(entries))
	}
	return &index, entries
}

// slotOf is id's first slot in index (Fibonacci hashing).
func slotOf(id ID) uint32 { return uint32(id) * 0x9E3779B1 >> (32 - indexBits) }

// defSimpleBlock is the definition met most often, looked up first.
var defSimpleBlock = schema[IDSimpleBlock]

// lookup returns the schema's definition of id.
func lookup(id ID) (def, bool) {
	if id == IDSimpleBlock {
		return defSimpleBlock, true
	}
	for h := slotOf(id); ; h = (h + 1) & (1<<indexBits - 1) {
		i := index[h]
		if i == 0 {
			return def{}, false
		}
		if e := &entries[i-1]; e.id == id {
			return e.d, true
		}
	}
}

// Name returns the element's name in the Matroska specification, or a hex
// form such as "0x1A2B3C" for an ID the decoder does not know.
func (id ID) Name() string {
	if d, ok := schema[id]; ok {
		return d.name
	}
	return fmt.Sprintf("0x%X", uint32(id))
}

// String returns the element's name and its ID in hex, "Cluster(0x1F43B675)".
func (id ID) String() string {
	if d, ok := schema[id]; ok {
		return fmt.Sprintf("%s(0x%X)", d.name, uint32(id))
	}
	return fmt.Sprintf("0x%X", uint32(id))
}

// Type returns the element's data type, or TypeUnknown for an ID the decoder
// does not know.
func (id ID) Type() Type { return schema[id].typ }

// descendant reports whether the schema places element id somewhere below
// master m, which decides whether id ends an unknown-size m (RFC 8794
// section 6.2). Global elements descend from every master.
func descendant(d def, id, m ID) bool {
	if d.flags&global != 0 || (id == m && d.flags&recursive != 0) {
		return true
	}
	for p := d.parent; p != 0; {
		if p == m {
			return true
		}
		pd, _ := lookup(p)
		p = pd.parent
	}
	return false
}
