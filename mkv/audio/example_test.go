package audio_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"time"

	"github.com/kvsmkv/kvsmkv/mkv"
	"github.com/kvsmkv/kvsmkv/mkv/audio"
)

// Convert the audio track of a Matroska stream to WAV as its blocks are
// read: here 8 kHz mono A-law as AWS's producer SDK writes it, into a
// buffer (a writer that cannot seek, so the sizes stay unknown; a file
// gets them at Close).
func Example() {
	var stream bytes.Buffer
	alaw := []byte{6, 0, 1, 0, 0x40, 0x1F, 0, 0, 0xE8, 3, 0, 0, 1, 0, 0, 0, 0, 0} // WAVEFORMATEX
	mw, err := mkv.NewStreamWriter(&stream, mkv.WriterOptions{Tracks: []mkv.Track{
		{Number: 1, Type: mkv.AudioTrack, CodecID: audio.CodecACM, CodecPrivate: alaw, Name: "AUDIO_FROM_CUSTOMER"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 50 { // 1 s of 20 ms frames
		mw.WriteFrame(1, time.Duration(i)*20*time.Millisecond, true, bytes.Repeat([]byte{0xD5}, 160))
	}
	mw.Close()

	var wav bytes.Buffer
	var track mkv.Track
	var w *audio.Writer
	for ev, err := range mkv.NewDecoder(&stream).All() {
		if err != nil {
			log.Fatal(err)
		}
		switch {
		case ev.ID == mkv.IDTrackEntry && ev.Kind == mkv.Start:
			track = mkv.NewTrack()
		case ev.Kind == mkv.Value:
			track.Set(ev)
		case ev.ID == mkv.IDTracks && ev.Kind == mkv.End:
			ext, err := audio.Ext(track.CodecID)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("track %d %s: %s %g Hz -> %s\n", track.Number, track.Name, track.CodecID, track.SamplingRate, ext)
			if w, err = audio.NewWriter(&wav, &track); err != nil {
				log.Fatal(err)
			}
		case ev.Kind == mkv.BlockKind && ev.Block.Track == track.Number:
			for _, frame := range ev.Block.Frames {
				if err := w.WriteFrame(frame); err != nil {
					log.Fatal(err)
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	b := wav.Bytes()
	le := binary.LittleEndian
	fmt.Printf("%d bytes: format %d, %d channel, %d Hz, %d bytes/s, %d bits, data size %#x\n",
		len(b), le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint32(b[28:]), le.Uint16(b[34:]), le.Uint32(b[42:]))
	// Output:
	// track 1 AUDIO_FROM_CUSTOMER: A_MS/ACM 8000 Hz -> .wav
	// 8046 bytes: format 6, 1 channel, 8000 Hz, 8000 bytes/s, 8 bits, data size 0xffffffff
}
