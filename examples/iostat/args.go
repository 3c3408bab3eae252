package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

type config struct {
	cpu, disk  bool
	extended   bool
	omitBoot   bool // -y
	omitZero   bool // -z
	json       bool
	mb         bool // -m (MB) instead of kB
	partsAll   bool // -p or -p ALL
	partsOf    []string
	devices    []string // explicit devices (display unfiltered)
	unfiltered bool
	interval   time.Duration
	count      int // -1: forever
	root       string
	latency    bool // --latency: per-request latency quantiles (eBPF)
}

// parseArgs follows sysstat's rules: options may be grouped (-dxy), -p takes
// an optional argument unless it is all digits or an option, the first number
// is the interval and the second the count, and any other word is a device.
func parseArgs(args []string) (*config, error) {
	c := &config{count: 1}
	reportSet, kb := false, false
	numbers := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-p":
			if i+1 < len(args) && !isDigits(args[i+1]) && !strings.HasPrefix(args[i+1], "-") {
				i++
				c.unfiltered = true
				for _, d := range strings.Split(args[i], ",") {
					if d == "ALL" {
						c.partsAll = true
					} else if d != "" {
						c.partsOf = append(c.partsOf, strings.TrimPrefix(d, "/dev/"))
					}
				}
			} else {
				c.partsAll = true
			}
		case a == "-o":
			if i+1 >= len(args) || args[i+1] != "JSON" {
				return nil, errors.New("-o takes JSON")
			}
			i++
			c.json = true
		case a == "--latency":
			c.latency = true
		case a == "--root":
			if i+1 >= len(args) {
				return nil, errors.New("--root takes a directory")
			}
			i++
			c.root = args[i]
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, f := range a[1:] {
				switch f {
				case 'c':
					c.cpu, reportSet = true, true
				case 'd':
					c.disk, reportSet = true, true
				case 'x':
					c.extended = true
				case 'y':
					c.omitBoot = true
				case 'z':
					c.omitZero = true
				case 'k':
					if c.mb {
						return nil, errors.New("-k and -m exclude each other")
					}
					kb = true
				case 'm':
					if kb {
						return nil, errors.New("-k and -m exclude each other")
					}
					c.mb = true
				case 'p':
					c.partsAll = true
				default:
					return nil, fmt.Errorf("unknown option -%c", f)
				}
			}
		case isDigits(a):
			v, err := strconv.Atoi(a)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", a)
			}
			switch numbers {
			case 0:
				if int64(v) > int64(math.MaxInt64/time.Second) {
					return nil, fmt.Errorf("interval %q too large", a)
				}
				c.interval = time.Duration(v) * time.Second
				c.count = -1
			case 1:
				if v < 1 || c.interval == 0 {
					return nil, fmt.Errorf("bad count %q", a)
				}
				c.count = v
			default:
				return nil, fmt.Errorf("unexpected %q", a)
			}
			numbers++
		default:
			c.unfiltered = true
			if a != "ALL" {
				c.devices = append(c.devices, strings.TrimPrefix(a, "/dev/"))
			}
		}
	}
	if c.interval == 0 {
		c.count = 1
	}
	if !reportSet {
		c.cpu, c.disk = true, true
	}
	if c.partsAll || len(c.partsOf) > 0 || c.extended || c.unfiltered || c.latency {
		c.disk = true
	}
	if c.partsAll {
		c.devices, c.partsOf = nil, nil
	}
	return c, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
