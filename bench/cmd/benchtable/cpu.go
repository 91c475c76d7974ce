package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// machine describes the CPU the benchmarks ran on: its model and the data
// caches of its first core, each with the CPUs that share it, as Linux shows
// them in /proc/cpuinfo and /sys/devices/system/cpu/cpu0/cache. The ratios
// to Copy depend on them (a read's bytes are decoded from the cache they
// landed in), so results from machines of different caches are told apart.
// Where these files are absent it says so.
func machine() string {
	model := "unknown model"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var caches []string
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index[0-9]*")
	for _, dir := range dirs {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			return strings.TrimSpace(string(b))
		}
		kind := read("type")
		if kind == "Instruction" {
			continue
		}
		name := "L" + read("level")
		if kind == "Data" {
			name += "d"
		}
		caches = append(caches, fmt.Sprintf("%s %s (CPUs %s)", name, cacheSize(read("size")), read("shared_cpu_list")))
	}
	if len(caches) == 0 {
		caches = []string{"caches unknown (no /sys/devices/system/cpu/cpu0/cache)"}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s; caches of CPU 0 (and the CPUs sharing each): %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), strings.Join(caches, ", "))
}

// cacheSize turns sysfs's "2048K" into "2 MiB" and "48K" into "48 KiB".
func cacheSize(s string) string {
	var k int
	if _, err := fmt.Sscanf(s, "%dK", &k); err != nil {
		return s
	}
	if k >= 1024 && k%1024 == 0 {
		return fmt.Sprintf("%d MiB", k/1024)
	}
	return fmt.Sprintf("%d KiB", k)
}
