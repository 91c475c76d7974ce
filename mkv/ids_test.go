package mkv

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/at-wat/ebml-go"
)

// TestSchemaAgainstEBMLGo checks every element the decoder knows against
// ebml-go's element table: same ID bytes, same type.
func TestSchemaAgainstEBMLGo(t *testing.T) {
	rename := map[string]string{
		"DocType": "EBMLDocType", "DocTypeVersion": "EBMLDocTypeVersion", "DocTypeReadVersion": "EBMLDocTypeReadVersion",
		"DocTypeExtension": "EBMLDocTypeExtension", "DocTypeExtensionName": "EBMLDocTypeExtensionName",
		"DocTypeExtensionVersion": "EBMLDocTypeExtensionVersion", "CRC-32": "CRC32",
		"LanguageBCP47": "LanguageIETF", "TagLanguageBCP47": "TagLanguageIETF",
	}
	types := map[ebml.DataType][]Type{
		ebml.DataTypeMaster: {TypeMaster}, ebml.DataTypeUInt: {TypeUint}, ebml.DataTypeInt: {TypeInt},
		ebml.DataTypeFloat: {TypeFloat}, ebml.DataTypeString: {TypeString, TypeUTF8}, ebml.DataTypeDate: {TypeDate},
		ebml.DataTypeBinary: {TypeBinary}, ebml.DataTypeBlock: {TypeBlock},
	}
	matched := 0
	for id, d := range schema {
		name := d.name
		if r, ok := rename[name]; ok {
			name = r
		}
		et, err := ebml.ElementTypeFromString(name)
		if err != nil {
			continue // an element ebml-go does not define
		}
		matched++
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(id))
		if want := et.Bytes(); !bytes.Equal(bytes.TrimLeft(b[:], "\x00"), want) {
			t.Errorf("%s: ID %X, ebml-go has % X", d.name, uint32(id), want)
		}
		ok := false
		for _, ty := range types[et.DataType()] {
			ok = ok || ty == d.typ
		}
		if !ok {
			t.Errorf("%s: type %v, ebml-go has %v", d.name, d.typ, et.DataType())
		}
	}
	if matched < len(schema)-5 {
		t.Errorf("only %d of %d elements found in ebml-go's table", matched, len(schema))
	}
}

// TestDescendant checks the schema walk behind RFC 8794 section 6.2.
func TestDescendant(t *testing.T) {
	tests := []struct {
		id, master ID
		want       bool
	}{
		{IDSimpleBlock, IDCluster, true},
		{IDBlock, IDCluster, true},
		{IDCluster, IDCluster, false},
		{IDTags, IDCluster, false},
		{IDSimpleTag, IDSimpleTag, true},
		{IDVoid, IDCluster, true},
		{IDCRC32, IDSegment, true},
		{IDTagName, IDSegment, true},
		{IDEBMLVersion, IDSegment, false},
	}
	for _, tt := range tests {
		if got := descendant(schema[tt.id], tt.id, tt.master); got != tt.want {
			t.Errorf("descendant(%v, %v) = %v, want %v", tt.id, tt.master, got, tt.want)
		}
	}
}

// TestLookup checks the decoder's hash index against the schema: every
// element is found with its definition, and IDs near them are not.
func TestLookup(t *testing.T) {
	for id, want := range schema {
		if d, ok := lookup(id); !ok || d != want {
			t.Errorf("lookup(%v) = %v, %v; want %v", id, d, ok, want)
		}
		for _, near := range []ID{id + 1, id - 1, id ^ 0x80, id << 8} {
			if _, inSchema := schema[near]; inSchema {
				continue
			}
			if d, ok := lookup(near); ok {
				t.Errorf("lookup(0x%X) found %v, which is not in the schema", uint32(near), d)
			}
		}
	}
	if len(entries) != len(schema) {
		t.Errorf("%d entries for %d elements", len(entries), len(schema))
	}
}
