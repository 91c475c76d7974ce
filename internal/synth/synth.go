// Package synth encodes tiny but real media for generated test streams:
// H.264 video that decoders accept and AAC-LC audio (silence), with the
// Matroska CodecPrivate bytes for each (avcC, AudioSpecificConfig).
//
// It exists so that the streams the project generates, its local KVS
// emulator and its tests carry media a player or ffmpeg can decode, instead
// of counting bytes a decoder rejects. The video shows a frame counter and a
// moving block, so a person or a test can tell frames apart, and each frame
// is a pure function of its index: a generator can make fragment i without
// encoding the frames before it.
//
// The encoders follow ITU-T H.264 (Baseline profile, CAVLC, I_PCM and
// P_Skip macroblocks only), ISO/IEC 14496-15 (AVCDecoderConfigurationRecord,
// length-prefixed NAL units) and ISO/IEC 14496-3 (AAC-LC raw data blocks).
package synth
