package main

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// partTypeNames names partition types as lsblk's PARTTYPENAME does. lsblk
// carries util-linux's tables of names built in; this project does not copy
// them. The installed util-linux prints the same tables with `sfdisk --label
// dos|gpt --list-types`, so they are read from there, once per run and only
// when the column is asked for. Without sfdisk the column is empty.
type partTypeNames struct {
	once sync.Once
	run  command.Runner
	dos  map[uint64]string
	gpt  map[string]string // by upper-case GUID
}

func (p *partTypeNames) load() {
	p.dos, p.gpt = map[uint64]string{}, map[string]string{}
	run := p.run
	if run == nil {
		e, err := command.New()
		if err != nil {
			return
		}
		run = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, label := range []string{"dos", "gpt"} {
		res, err := run.Run(ctx, command.Cmd{Tool: "sfdisk", Args: []string{"--label", label, "--list-types"}})
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(res.Stdout))
		for sc.Scan() {
			id, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), "  ")
			if !ok || id == "Id" {
				continue
			}
			name = strings.TrimSpace(name)
			if label == "gpt" {
				if k := strings.ToUpper(id); p.gpt[k] == "" {
					p.gpt[k] = name
				}
				continue
			}
			if code, err := strconv.ParseUint(id, 16, 8); err == nil {
				if _, seen := p.dos[code]; !seen { // the first name for a code wins
					p.dos[code] = name
				}
			}
		}
	}
}

// name returns the name of typ (PART_ENTRY_TYPE: a GUID for gpt, a hex code
// such as "0x83" for dos) in the table of scheme ("gpt", "dos" or "mbr"),
// or "" when the table does not name it.
func (p *partTypeNames) name(scheme, typ string) string {
	p.once.Do(p.load)
	switch scheme {
	case "dos", "mbr":
		// lsblk parses the code with strtol(code, 16): a "0x" prefix is
		// optional, and anything after the digits names nothing.
		h := strings.TrimPrefix(strings.TrimPrefix(typ, "0x"), "0X")
		code, err := strconv.ParseUint(h, 16, 32)
		if err != nil || h == "" {
			return ""
		}
		return p.dos[code]
	case "gpt":
		return p.gpt[strings.ToUpper(typ)]
	}
	return ""
}
