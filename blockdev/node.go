package blockdev

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// node stats the device's node (Path under the root, links followed, as
// lsblk stats it). A node that is missing, or is not the block device of
// this number (a fake tree's placeholder file, a stale node left by a
// device of another number), is no node of the device: nil. A stat that
// fails otherwise is an *AttrError.
func (x *discovery) node(d *Device) *Node {
	p := x.root.Path(d.Path)
	x.opens++
	var st unix.Stat_t
	for {
		err := unix.Stat(p, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				d.addErr("node "+p, &os.PathError{Op: "stat", Path: p, Err: err})
			}
			return nil
		}
		break
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK || unix.Major(st.Rdev) != d.MajMin.Major || unix.Minor(st.Rdev) != d.MajMin.Minor {
		x.cfg.log.Debug("not the device's node", "device", d.KName, "path", p)
		return nil
	}
	mode := fs.ModeDevice | fs.FileMode(st.Mode&0o777)
	if st.Mode&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return &Node{UID: st.Uid, GID: st.Gid, Mode: mode}
}

// nodeNames gives the nodes read in this pass the names of their owner and
// group, from the root's /etc/passwd and /etc/group, each read once and
// only when some device has a node. An unreadable file leaves the names
// empty and is an *AttrError on the devices that needed it.
func (x *discovery) nodeNames() {
	var users, groups map[uint32]string
	var uErr, gErr error
	loaded := false
	for _, d := range x.g.devs {
		if d.Node == nil || !x.isFresh(d) {
			continue
		}
		if !loaded {
			loaded = true
			users, uErr = x.idNames("/etc/passwd")
			groups, gErr = x.idNames("/etc/group")
		}
		if uErr != nil {
			d.addErr("node owner", uErr)
		}
		if gErr != nil {
			d.addErr("node group", gErr)
		}
		d.Node.Owner = users[d.Node.UID]
		d.Node.Group = groups[d.Node.GID]
	}
}

// idNames reads the names by id of an /etc/passwd or /etc/group file
// (name:password:id:...); the first line for an id wins, as getpwuid(3)
// finds it. A missing file names nobody and is no error.
func (x *discovery) idNames(abs string) (map[uint32]string, error) {
	p := x.root.Path(abs)
	x.opens++
	data, err := readBoundedFile(p, 16<<20)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return parseIDNames(string(data)), nil
}

func parseIDNames(data string) map[uint32]string {
	names := map[uint32]string{}
	for line := range strings.Lines(data) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue // comments and NIS compat entries name no local id
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := names[uint32(id)]; !dup {
			names[uint32(id)] = f[0]
		}
	}
	return names
}
