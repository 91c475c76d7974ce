package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// histogram counts latencies in buckets of resolution, up to limit: bucket
// i holds those in ((i-1) x resolution, i x resolution]; the ones above the
// limit go to an overflow bucket, and the maximum is kept exactly.
// It is safe for concurrent use and costs no allocation per sample.
type histogram struct {
	resolution time.Duration
	buckets    []atomic.Uint64 // the last one counts overflows
	max        atomic.Int64
}

func newHistogram(resolution, limit time.Duration) *histogram {
	return &histogram{resolution: resolution, buckets: make([]atomic.Uint64, int(limit/resolution)+2)}
}

// add counts one latency; a negative one (clocks that moved) counts as 0.
func (h *histogram) add(d time.Duration) {
	d = max(d, 0)
	i := min(int((d+h.resolution-1)/h.resolution), len(h.buckets)-1)
	h.buckets[i].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// count is the number of latencies counted.
func (h *histogram) count() uint64 {
	var n uint64
	for i := range h.buckets {
		n += h.buckets[i].Load()
	}
	return n
}

// quantile returns the latency at or below which a fraction q of those
// counted lie, to the resolution (the upper end of its bucket, never more
// than the maximum; the maximum in the overflow bucket); 0 when none were
// counted.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank && i < len(h.buckets)-1 {
			return min(time.Duration(i)*h.resolution, h.maximum())
		}
	}
	return h.maximum()
}

// maximum is the largest latency counted.
func (h *histogram) maximum() time.Duration { return time.Duration(h.max.Load()) }

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// processCPU is the CPU time another process has used, from
// /proc/PID/stat (utime and stime, fields 14 and 15).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times %q %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// memory reads the resident set size and its peak (VmRSS and VmHWM) from
// a /proc/PID/status file, in bytes.
func memory(status string) (rss, peak int64, err error) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "VmRSS" && name != "VmHWM" {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %s: %q", status, name, v)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// tcpConnections counts this process's established TCP connections: its
// socket descriptors whose inodes /proc/net/tcp and tcp6 list in state
// ESTABLISHED (01).
func tcpConnections() (int, error) {
	established := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return 0, err
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
			if len(f) >= 10 && f[3] == "01" {
				established[f[9]] = true
			}
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil {
			continue // closed since the listing
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok && established[strings.TrimSuffix(inode, "]")] {
			n++
		}
	}
	return n, nil
}
