//go:build !linux

package main

import (
	"errors"
	"os"
)

// canMap says that this system does not map files: kvsdump reads them.
const canMap = false

func mapRange(*os.File, int64, int) ([]byte, func(), error) {
	return nil, nil, errors.ErrUnsupported
}
