package main

import "flag"

// sourceKind is where kvsdump reads fragments from. A flag applies to some
// sources only; checkFlags refuses it with any other.
type sourceKind uint8

const (
	fromFile    sourceKind = 1 << iota // FILE, standard input or the built-in sample
	fromRange                          // -stream: a time range, listed and fetched
	fromFollow                         // -stream -follow: GetMedia, live
	fromEmulate                        // -emulate: a time range of a local emulator's stream
)

// flagUse says which sources a flag applies to, and names them for the
// message that refuses it elsewhere.
type flagUse struct {
	sources sourceKind
	with    string
}

// flagUses holds every flag that applies to some sources only; a flag it
// does not name applies to every source. A new flag that reads KVS, or
// only a file, gets its line here.
var flagUses = map[string]flagUse{
	"stream":      {fromRange | fromFollow, "KVS reads (not FILE or -emulate)"},
	"streams":     {fromRange | fromFollow, "KVS reads (not FILE or -emulate)"},
	"follow":      {fromFollow, "-stream"},
	"from":        {fromFollow, "-stream -follow"},
	"checkpoint":  {fromFollow, "-stream -follow"},
	"start":       {fromRange | fromEmulate, "a time range (-stream without -follow, or -emulate)"},
	"end":         {fromRange | fromEmulate, "a time range (-stream without -follow, or -emulate)"},
	"server-time": {fromRange | fromEmulate, "a time range (-stream without -follow, or -emulate)"},
	"endpoint":    {fromRange | fromFollow, "-stream"},
	"region":      {fromRange | fromFollow, "-stream"},
	// KVS reads retry a unit cut short rather than skip it (kvsaws), so
	// there is no resynchronisation there to turn off.
	"strict": {fromFile, "FILE or standard input (KVS reads retry a malformed unit instead of skipping it)"},
}

// source returns the kind of source the command line names.
func (c *config) source() sourceKind {
	switch {
	case c.emulate:
		return fromEmulate
	case (c.live.stream != "" || c.streams.file != "") && c.live.follow:
		return fromFollow
	case c.live.stream != "" || c.streams.file != "":
		return fromRange
	}
	return fromFile
}

// describeSource names the source c reads, for a message.
func (c *config) describeSource() string {
	switch c.source() {
	case fromEmulate:
		return "-emulate"
	case fromFollow:
		return "-stream -follow"
	case fromRange:
		return "-stream without -follow (a time range)"
	}
	switch c.file {
	case "":
		return "the built-in sample (no FILE given)"
	case "-":
		return "standard input (FILE -)"
	}
	return "FILE " + c.file
}

// checkFlags refuses, in one place, the flags set on the command line that
// do not apply to its source or to each other; set holds the names of the
// flags given.
func (c *config) checkFlags(set []string) error {
	if c.live.stream != "" && c.emulate {
		return usagef("-stream and -emulate are two sources: give one")
	}
	src := c.source()
	for _, name := range set {
		if u, ok := flagUses[name]; ok && u.sources&src == 0 {
			return usagef("-%s goes with %s, not with %s", name, u.with, c.describeSource())
		}
	}
	if err := c.while.parse(); err != nil {
		return err
	}
	if src&(fromRange|fromEmulate) != 0 {
		if _, _, err := c.live.timeRange(); err != nil {
			return err
		}
	}
	switch {
	case c.audio.toStdout() && c.media.toStdout():
		return usagef("-audio - and -annexb - or -mkv - both want standard output")
	case c.audio.toStdout() && (c.frames || c.table):
		return usagef("-frames and -table print to standard output, which -audio - takes")
	case c.frames && c.table:
		return usagef("-frames prints a JSON line per frame; -table prints a row per fragment only: give one")
	case c.frames && c.media.toStdout():
		return usagef("-frames prints to standard output, which -annexb - or -mkv - takes")
	case c.table && c.media.toStdout():
		return usagef("-table prints to standard output, which -annexb - or -mkv - takes")
	case c.media.annexbOut && c.media.mkvPath == "-":
		return usagef("-annexb - and -mkv - both want standard output")
	case c.out.merge && c.out.outDir == "":
		return usagef("-merge goes with -out")
	case c.streams.file != "" && c.live.stream != "":
		return usagef("-stream and -streams both name streams: give one")
	case c.several() && c.oneStream() != "":
		return usagef("%s takes one stream, not the several of -stream a,b,c or -streams FILE: with several, kvsdump prints their fragments' JSON lines (-table, -out, -annexb, -keyframes, -mkv, -audio, -track and -while-tag take one stream)", c.oneStream())
	}
	return nil
}

// setFlags returns the names of the flags fs parsed, in lexical order.
func setFlags(fs *flag.FlagSet) []string {
	var set []string
	fs.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	return set
}
