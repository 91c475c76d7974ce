// Package audio turns the frames of a Matroska audio track into a file
// players read: PCM and G.711 into WAV, AAC into ADTS. It writes frame by
// frame, so it can sit behind a streaming reader without holding a
// fragment, and it writes to a pipe as well as to a file.
//
// The codecs and what they become:
//
//   - A_PCM/INT/LIT, A_PCM/INT/BIG (swapped to little-endian) and
//     A_PCM/FLOAT/IEEE: WAV of the track's SamplingFrequency, Channels and
//     BitDepth, WAVE_FORMAT_EXTENSIBLE when it has more than 2 channels or
//     integer samples of more than 16 bits;
//   - A_MS/ACM: WAV with the format of the WAVEFORMATEX in CodecPrivate.
//     For PCM (format tag 1), IEEE float (3), G.711 A-law (6) and µ-law
//     (7) the block alignment and byte rate are derived from the format,
//     not read from the structure: AWS's C producer SDK writes G.711 with
//     a byte rate of 1000 and 0 bits per sample. Other format tags are
//     copied as they are, extra bytes included;
//   - A_AAC: ADTS, one 7-byte header per frame, with the profile, sampling
//     frequency index and channel configuration of the AudioSpecificConfig
//     in CodecPrivate.
//
// Ext says which file a codec becomes. Another codec is a *CodecError.
//
// A WAV file's header holds its size. When the io.Writer given to
// NewWriter can seek (a file), Close goes back and writes the exact RIFF,
// fact and data sizes; otherwise (a pipe, a socket) they stay 0xFFFFFFFF,
// "unknown", which ffmpeg and sox read to the end of the stream. Until
// Close, a file has the unknown sizes too, so it can be read while it is
// written.
//
// Malformed input is a *CodecPrivateError (a WAVEFORMATEX or
// AudioSpecificConfig that cannot be used), a *FormatError (audio
// settings no file can have) or a *FrameError (a frame that is not whole
// samples, or too long for ADTS), which say where and wrap ErrCodecPrivate,
// ErrFormat or ErrFrame.
//
// A Writer takes the mkv.Track of a TrackEntry (as mkv.Track.Set or a
// kvs.Fragment reads it) and then the track's frames, each as its block
// is read:
//
//	w, err := audio.NewWriter(out, &track) // out: a file, or os.Stdout
//	if err != nil {
//		return err // a *CodecError for a codec it does not convert
//	}
//	for _, frame := range block.Frames {
//		if err := w.WriteFrame(frame); err != nil {
//			return err
//		}
//	}
//	...
//	return w.Close() // the sizes, when out seeks
//
// Example reads a stream and converts its track this way.
package audio
