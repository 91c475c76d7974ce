//go:build !amd64 || purego

package mkv

import "hash/crc32"

// updateCRC is crc32.Update with the IEEE table.
func updateCRC(crc uint32, p []byte) uint32 { return crc32.Update(crc, crc32.IEEETable, p) }
