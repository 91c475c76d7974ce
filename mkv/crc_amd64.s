//go:build amd64 && !purego

#include "textflag.h"

// func fold4(raw uint32, p []byte, out *[64]byte)
//
// Four 512-bit lanes Z1-Z4 hold the first 256 bytes (raw XORed into the
// first four); each step folds every 128-bit part of them 2048 bits
// forward (its high and low quadwords carry-less multiplied by x^2016 and
// x^2080 modulo P, bit-reflected) onto the next 256 bytes. At the end
// the lanes are folded 512 bits forward into one another (the constants
// of hash/crc32's r2r1, x^480 and x^544).
TEXT ·fold4(SB), NOSPLIT, $0-40
	MOVL raw+0(FP), X0
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ out+32(FP), DI

	VPXORQ    Z10, Z10, Z10
	VMOVAPS   X0, X10
	VMOVDQU64 (SI), Z1
	VMOVDQU64 64(SI), Z2
	VMOVDQU64 128(SI), Z3
	VMOVDQU64 192(SI), Z4
	VPXORQ    Z10, Z1, Z1
	ADDQ      $256, SI
	SUBQ      $256, CX
	VMOVDQU64 fold2048<>+0(SB), Z0

loop:
	CMPQ       CX, $256
	JB         lanes
	VMOVDQU64  (SI), Z11
	VMOVDQU64  64(SI), Z12
	VMOVDQU64  128(SI), Z13
	VMOVDQU64  192(SI), Z14
	VPCLMULQDQ $0x11, Z0, Z1, Z5
	VPCLMULQDQ $0x11, Z0, Z2, Z6
	VPCLMULQDQ $0x11, Z0, Z3, Z7
	VPCLMULQDQ $0x11, Z0, Z4, Z8
	VPCLMULQDQ $0, Z0, Z1, Z1
	VPCLMULQDQ $0, Z0, Z2, Z2
	VPCLMULQDQ $0, Z0, Z3, Z3
	VPCLMULQDQ $0, Z0, Z4, Z4
	VPTERNLOGD $0x96, Z11, Z5, Z1
	VPTERNLOGD $0x96, Z12, Z6, Z2
	VPTERNLOGD $0x96, Z13, Z7, Z3
	VPTERNLOGD $0x96, Z14, Z8, Z4
	ADDQ       $256, SI
	SUBQ       $256, CX
	JMP        loop

lanes:
	VMOVDQU64  fold512<>+0(SB), Z0
	VPCLMULQDQ $0x11, Z0, Z1, Z5
	VPCLMULQDQ $0, Z0, Z1, Z1
	VPTERNLOGD $0x96, Z2, Z5, Z1
	VPCLMULQDQ $0x11, Z0, Z1, Z5
	VPCLMULQDQ $0, Z0, Z1, Z1
	VPTERNLOGD $0x96, Z3, Z5, Z1
	VPCLMULQDQ $0x11, Z0, Z1, Z5
	VPCLMULQDQ $0, Z0, Z1, Z1
	VPTERNLOGD $0x96, Z4, Z5, Z1
	VMOVDQU64  Z1, (DI)
	VZEROUPPER
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL   $0, CX
	XGETBV
	MOVL   AX, eax+0(FP)
	MOVL   DX, edx+4(FP)
	RET

DATA fold2048<>+0(SB)/8, $0x11542778a
DATA fold2048<>+8(SB)/8, $0x1322d1430
DATA fold2048<>+16(SB)/8, $0x11542778a
DATA fold2048<>+24(SB)/8, $0x1322d1430
DATA fold2048<>+32(SB)/8, $0x11542778a
DATA fold2048<>+40(SB)/8, $0x1322d1430
DATA fold2048<>+48(SB)/8, $0x11542778a
DATA fold2048<>+56(SB)/8, $0x1322d1430
GLOBL fold2048<>(SB), RODATA, $64

DATA fold512<>+0(SB)/8, $0x154442bd4
DATA fold512<>+8(SB)/8, $0x1c6e41596
DATA fold512<>+16(SB)/8, $0x154442bd4
DATA fold512<>+24(SB)/8, $0x1c6e41596
DATA fold512<>+32(SB)/8, $0x154442bd4
DATA fold512<>+40(SB)/8, $0x1c6e41596
DATA fold512<>+48(SB)/8, $0x154442bd4
DATA fold512<>+56(SB)/8, $0x1c6e41596
GLOBL fold512<>(SB), RODATA, $64
