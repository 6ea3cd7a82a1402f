#include "textflag.h"

// func sumLinesAVX2(p *uint64, lines int) uint64
// Reads lines*64 bytes with 256-bit loads into four accumulators, so the
// loop is bound by the memory system, not by load issue width.
TEXT ·sumLinesAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ lines+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	MOVQ CX, DX
	SHRQ $2, DX
	JZ   tail
loop4:
	VPADDQ 0(SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	VPADDQ 64(SI), Y2, Y2
	VPADDQ 96(SI), Y3, Y3
	VPADDQ 128(SI), Y0, Y0
	VPADDQ 160(SI), Y1, Y1
	VPADDQ 192(SI), Y2, Y2
	VPADDQ 224(SI), Y3, Y3
	ADDQ $256, SI
	DECQ DX
	JNZ  loop4
tail:
	ANDQ $3, CX
	JZ   done
loop1:
	VPADDQ 0(SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	ADDQ $64, SI
	DECQ CX
	JNZ  loop1
done:
	VPADDQ Y1, Y0, Y0
	VPADDQ Y3, Y2, Y2
	VPADDQ Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ X1, X0, X0
	VPEXTRQ $1, X0, AX
	VMOVQ X0, BX
	ADDQ BX, AX
	VZEROUPPER
	MOVQ AX, ret+16(FP)
	RET

// func fillLinesAVX2(p *uint64, lines int, v uint64)
// Writes v to every word of lines*64 bytes with 256-bit stores.
TEXT ·fillLinesAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ lines+8(FP), CX
	VPBROADCASTQ v+16(FP), Y0
	TESTQ CX, CX
	JZ   fdone
floop:
	VMOVDQU Y0, 0(SI)
	VMOVDQU Y0, 32(SI)
	ADDQ $64, SI
	DECQ CX
	JNZ  floop
fdone:
	VZEROUPPER
	RET
