package main

import (
	"os"
	"syscall"
)

// canMap says that this system maps files.
const canMap = true

// mapRange maps n bytes of f from offset off, a multiple of the page size,
// read-only, and returns them with the function that unmaps them.
func mapRange(f *os.File, off int64, n int) ([]byte, func(), error) {
	b, err := syscall.Mmap(int(f.Fd()), off, n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
	}
	// Reading without frame data touches the headers, not the frames: no
	// read-around, so that the pages of the frames are never mapped.
	syscall.Madvise(b, syscall.MADV_RANDOM)
	return b, func() { syscall.Munmap(b) }, nil
}
