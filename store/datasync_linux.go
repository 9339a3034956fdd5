package store

import (
	"os"
	"syscall"
)

// datasync flushes f's data to stable storage; metadata only when needed to
// read the data back (the log's size), which is cheaper than fsync.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
