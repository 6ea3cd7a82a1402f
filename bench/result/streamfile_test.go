package result

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestWriteProfileStreams: a profile is written under the directory and,
// in a streamed run, sent as a record that reads back to the same bytes;
// a record whose data does not match its digest, or whose path leaves
// profiles/, is refused.
func TestWriteProfileStreams(t *testing.T) {
	dir := t.TempDir()
	var tee bytes.Buffer
	st := &Store{Dir: dir, Tee: &tee}
	data := []byte("\x1f\x8b profile bytes")
	cell := "syscall/call=read/DC1s_v2/sim"
	rel := ProfileDir + "/syscall_call=read-1a2b3c4d-a1.pb.gz"
	if err := st.WriteProfile(cell, rel, data); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel))); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("file: %q, %v", b, err)
	}
	line := strings.TrimSuffix(strings.TrimPrefix(tee.String(), StreamPrefix), "\n")
	var rec StreamRecord
	if err := rec.UnmarshalJSON([]byte(line)); err != nil {
		t.Fatal(err)
	}
	if want := NewStreamFile(cell, rel, data); !reflect.DeepEqual(rec.Profile, want) || rec.Sample != nil || rec.Cell != nil || rec.Run != nil {
		t.Fatalf("record %+v, want profile %+v", rec, want)
	}

	for name, f := range map[string]*StreamFile{
		"corrupt data":   {Cell: cell, Path: rel, SHA256: rec.Profile.SHA256, Data: []byte("\x1f\x8b profile bytez")},
		"other digest":   {Cell: cell, Path: rel, SHA256: strings.Repeat("0", 64), Data: data},
		"no data":        NewStreamFile(cell, rel, nil),
		"path outside":   NewStreamFile(cell, ProfileDir+"/../run.json", data),
		"path nested":    NewStreamFile(cell, ProfileDir+"/a/b.pb.gz", data),
		"path elsewhere": NewStreamFile(cell, "samples.jsonl", data),
		"hidden file":    NewStreamFile(cell, ProfileDir+"/.x", data),
		"no cell":        NewStreamFile("", rel, data),
	} {
		var b bytes.Buffer
		if err := EncodeStream(&b, StreamRecord{Profile: f}); err != nil {
			t.Fatal(err)
		}
		var back StreamRecord
		err := back.UnmarshalJSON(bytes.TrimSpace(bytes.TrimPrefix(b.Bytes(), []byte(StreamPrefix))))
		if err == nil {
			t.Errorf("%s: read back without an error", name)
		}
		// The writer computes the digest itself; the rest it refuses too.
		if digestOnly := name == "other digest" || name == "corrupt data"; !digestOnly {
			if err := st.WriteProfile(f.Cell, f.Path, f.Data); err == nil {
				t.Errorf("%s: written", name)
			}
		}
	}
}
