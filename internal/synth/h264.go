package synth

import (
	"encoding/binary"
	"fmt"
)

// VideoConfig describes the H.264 video. The zero value of a field takes
// the default given in its comment.
type VideoConfig struct {
	// Width and Height of the picture in pixels, positive multiples of 16
	// (default 160x96).
	Width, Height int
	// KeyframeInterval is the distance between IDR frames: frame i is a
	// keyframe when i is a multiple of it (default 30).
	KeyframeInterval int
}

// Defaults of VideoConfig.
const (
	DefaultWidth            = 160
	DefaultHeight           = 96
	DefaultKeyframeInterval = 30
)

// Stream parameters written in the SPS.
const (
	profileBaseline = 66
	// constraint_set0_flag and constraint_set1_flag: the stream keeps to
	// the Constrained Baseline profile.
	constraintFlags = 0xc0
	// levelIDC is level 4.0, whose bit rate and frame size limits leave
	// room for frames of raw I_PCM macroblocks.
	levelIDC = 40
	// log2MaxFrameNum is the smallest allowed, so that frame_num wraps
	// within a GOP of more than 16 frames and the wrap gets tested.
	log2MaxFrameNum = 4
)

// NAL unit types and macroblock types used.
const (
	nalSlice = 1 // coded slice of a non-IDR picture
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8

	sliceTypeP = 5 // P, all slices of the picture are P
	sliceTypeI = 7 // I, all slices of the picture are I

	mbTypeIPCMinI = 25     // I_PCM in an I slice (Table 7-11)
	mbTypeIPCMinP = 5 + 25 // I_PCM in a P slice: intra types follow the 5 P types (Table 7-13)

	mbSize        = 16
	pcmChromaSize = 2 * 8 * 8 // Cb then Cr, 8x8 each in 4:2:0
)

// Video encodes the frames of a synthetic H.264 stream: IDR frames of
// I_PCM macroblocks and P frames that code, as I_PCM, the macroblocks that
// changed since the previous frame and skip the others. Samples in I_PCM
// macroblocks are raw, so a decoder reproduces the pictures exactly.
type Video struct {
	c        VideoConfig
	mbW, mbH int
	sps, pps []byte // NAL units, header byte included, escaped
	avcC     []byte
}

// NewVideo returns an encoder for c, or an error if c's size is not made of
// whole macroblocks.
func NewVideo(c VideoConfig) (*Video, error) {
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.Height == 0 {
		c.Height = DefaultHeight
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = DefaultKeyframeInterval
	}
	if c.Width < 0 || c.Height < 0 || c.Width%mbSize != 0 || c.Height%mbSize != 0 {
		return nil, fmt.Errorf("synth: video size %dx%d is not a multiple of 16", c.Width, c.Height)
	}
	if c.KeyframeInterval < 0 {
		return nil, fmt.Errorf("synth: negative keyframe interval %d", c.KeyframeInterval)
	}
	v := &Video{c: c, mbW: c.Width / mbSize, mbH: c.Height / mbSize}
	v.sps = appendNAL(nil, 3, nalSPS, v.spsRBSP())
	v.pps = appendNAL(nil, 3, nalPPS, ppsRBSP())
	v.avcC = v.makeAVCC()
	return v, nil
}

// Config returns the configuration, with defaults filled in.
func (v *Video) Config() VideoConfig { return v.c }

// CodecPrivate returns the AVCDecoderConfigurationRecord (avcC, ISO/IEC
// 14496-15 5.3.3.1) holding the SPS and PPS, with 4-byte NAL unit lengths:
// the CodecPrivate of a Matroska V_MPEG4/ISO/AVC track. The caller must not
// modify it.
func (v *Video) CodecPrivate() []byte { return v.avcC }

// Keyframe reports whether frame i is an IDR frame.
func (v *Video) Keyframe(i int) bool { return i%v.c.KeyframeInterval == 0 }

// Frame returns frame i (i >= 0) as NAL units each preceded by its length,
// 4 bytes big-endian (the frame format of V_MPEG4/ISO/AVC), and whether it
// is a keyframe. The bytes depend on i alone; a P frame decodes correctly
// after frames i-1, i-2, ... back to the keyframe before it.
func (v *Video) Frame(i int) (data []byte, keyframe bool) {
	return v.AppendFrame(nil, i)
}

// AppendFrame is Frame appending to dst.
func (v *Video) AppendFrame(dst []byte, i int) ([]byte, bool) {
	if i < 0 {
		panic(fmt.Sprintf("synth: negative frame index %d", i))
	}
	cur := picture(v.c.Width, v.c.Height, i)
	key := v.Keyframe(i)
	var prev []byte
	if !key {
		prev = picture(v.c.Width, v.c.Height, i-1)
	}

	gop := i % v.c.KeyframeInterval
	var w bitWriter
	// slice_header() (7.3.3)
	w.ue(0) // first_mb_in_slice
	if key {
		w.ue(sliceTypeI)
	} else {
		w.ue(sliceTypeP)
	}
	w.ue(0)                                                // pic_parameter_set_id
	w.u(log2MaxFrameNum, uint64(gop%(1<<log2MaxFrameNum))) // frame_num
	if key {
		// idr_pic_id: two IDR frames in a row (KeyframeInterval 1) must
		// differ.
		w.ue(uint32(i / v.c.KeyframeInterval % 65536))
		// pic_order_cnt_type 2: no POC fields.
		w.flag(false) // no_output_of_prior_pics_flag
		w.flag(false) // long_term_reference_flag
	} else {
		w.flag(false) // num_ref_idx_active_override_flag: 1 reference
		w.flag(false) // ref_pic_list_modification_flag_l0
		w.flag(false) // adaptive_ref_pic_marking_mode_flag: sliding window
	}
	w.se(0) // slice_qp_delta
	// disable_deblocking_filter_idc 1: no deblocking, so the skipped
	// macroblocks next to I_PCM ones keep their samples.
	w.ue(1)

	// slice_data() (7.3.4), CAVLC.
	skip := uint32(0)
	for my := 0; my < v.mbH; my++ {
		for mx := 0; mx < v.mbW; mx++ {
			if !key {
				if sameMB(cur, prev, v.c.Width, mx, my) {
					// P_Skip: with every motion vector in the stream
					// zero, its predicted vector is zero too, so it
					// copies the macroblock from the previous frame.
					skip++
					continue
				}
				w.ue(skip) // mb_skip_run
				skip = 0
				w.ue(mbTypeIPCMinP)
			} else {
				w.ue(mbTypeIPCMinI)
			}
			w.align() // pcm_alignment_zero_bit
			for y := 0; y < mbSize; y++ {
				o := (my*mbSize+y)*v.c.Width + mx*mbSize
				w.bytes(cur[o : o+mbSize]) // pcm_sample_luma
			}
			for k := 0; k < pcmChromaSize; k++ {
				w.buf = append(w.buf, greyChroma) // pcm_sample_chroma
			}
		}
	}
	if skip > 0 {
		w.ue(skip)
	}
	w.trailing()

	if key {
		return appendNAL(dst, 3, nalIDR, w.buf), true
	}
	return appendNAL(dst, 2, nalSlice, w.buf), false
}

// sameMB reports whether the luma of macroblock (mx, my) is the same in
// two pictures of the given width.
func sameMB(a, b []byte, width, mx, my int) bool {
	for y := 0; y < mbSize; y++ {
		o := (my*mbSize+y)*width + mx*mbSize
		if string(a[o:o+mbSize]) != string(b[o:o+mbSize]) {
			return false
		}
	}
	return true
}

// appendNAL appends a NAL unit preceded by its 4-byte length: the header
// byte (forbidden_zero_bit, nal_ref_idc, nal_unit_type) and the escaped
// RBSP.
func appendNAL(dst []byte, refIDC, typ byte, rbsp []byte) []byte {
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0, refIDC<<5|typ)
	dst = appendEscaped(dst, rbsp)
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}

// spsRBSP returns seq_parameter_set_rbsp() (7.3.2.1.1).
func (v *Video) spsRBSP() []byte {
	var w bitWriter
	w.u(8, profileBaseline)
	w.u(8, constraintFlags) // constraint_set0..5_flag, reserved_zero_2bits
	w.u(8, levelIDC)
	w.ue(0)                   // seq_parameter_set_id
	w.ue(log2MaxFrameNum - 4) // log2_max_frame_num_minus4
	w.ue(2)                   // pic_order_cnt_type: output order is decoding order
	w.ue(1)                   // max_num_ref_frames
	w.flag(false)             // gaps_in_frame_num_value_allowed_flag
	w.ue(uint32(v.mbW - 1))   // pic_width_in_mbs_minus1
	w.ue(uint32(v.mbH - 1))   // pic_height_in_map_units_minus1
	w.flag(true)              // frame_mbs_only_flag
	w.flag(true)              // direct_8x8_inference_flag
	w.flag(false)             // frame_cropping_flag
	w.flag(true)              // vui_parameters_present_flag

	// vui_parameters() (E.1.1): only bitstream_restriction, which tells
	// decoders that frames need no reordering, so they output each one at
	// once.
	w.flag(false) // aspect_ratio_info_present_flag
	w.flag(false) // overscan_info_present_flag
	w.flag(false) // video_signal_type_present_flag
	w.flag(false) // chroma_loc_info_present_flag
	w.flag(false) // timing_info_present_flag
	w.flag(false) // nal_hrd_parameters_present_flag
	w.flag(false) // vcl_hrd_parameters_present_flag
	w.flag(false) // pic_struct_present_flag
	w.flag(true)  // bitstream_restriction_flag
	w.flag(true)  // motion_vectors_over_pic_boundaries_flag
	w.ue(0)       // max_bytes_per_pic_denom: no limit
	w.ue(0)       // max_bits_per_mb_denom: no limit
	w.ue(15)      // log2_max_mv_length_horizontal
	w.ue(15)      // log2_max_mv_length_vertical
	w.ue(0)       // max_num_reorder_frames
	w.ue(1)       // max_dec_frame_buffering
	w.trailing()
	return w.buf
}

// ppsRBSP returns pic_parameter_set_rbsp() (7.3.2.2).
func ppsRBSP() []byte {
	var w bitWriter
	w.ue(0)       // pic_parameter_set_id
	w.ue(0)       // seq_parameter_set_id
	w.flag(false) // entropy_coding_mode_flag: CAVLC
	w.flag(false) // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)       // num_slice_groups_minus1
	w.ue(0)       // num_ref_idx_l0_default_active_minus1
	w.ue(0)       // num_ref_idx_l1_default_active_minus1
	w.flag(false) // weighted_pred_flag
	w.u(2, 0)     // weighted_bipred_idc
	w.se(0)       // pic_init_qp_minus26
	w.se(0)       // pic_init_qs_minus26
	w.se(0)       // chroma_qp_index_offset
	w.flag(true)  // deblocking_filter_control_present_flag
	w.flag(false) // constrained_intra_pred_flag
	w.flag(false) // redundant_pic_cnt_present_flag
	w.trailing()
	return w.buf
}

// makeAVCC returns the AVCDecoderConfigurationRecord for the SPS and PPS.
func (v *Video) makeAVCC() []byte {
	sps, pps := v.sps[4:], v.pps[4:] // without the length prefixes
	b := []byte{
		1,        // configurationVersion
		sps[1],   // AVCProfileIndication
		sps[2],   // profile_compatibility
		sps[3],   // AVCLevelIndication
		0xfc | 3, // reserved, lengthSizeMinusOne: 4-byte lengths
		0xe0 | 1, // reserved, numOfSequenceParameterSets
		0, 0,     // sequenceParameterSetLength
	}
	binary.BigEndian.PutUint16(b[6:], uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1, 0, 0) // numOfPictureParameterSets, pictureParameterSetLength
	binary.BigEndian.PutUint16(b[len(b)-2:], uint16(len(pps)))
	b = append(b, pps...)
	return b[:len(b):len(b)] // appends by callers copy
}
