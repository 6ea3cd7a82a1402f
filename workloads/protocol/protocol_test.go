package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		line    string
		want    string // message type, "" for an error
		foreign bool
		errSub  string
	}{
		{"hello", Prefix + `{"type":"hello","workload":"syscall","gomaxprocs":2}`, TypeHello, false, ""},
		{"crlf", Prefix + `{"type":"done","elapsed_ns":5}` + "\r\n", TypeDone, false, ""},
		{"ego banner", "[erthost] loading enclave ...", "", true, ""},
		{"empty", "", "", true, ""},
		{"prefix after text", "[ego] starting application ..." + Prefix + `{"type":"done"}`, TypeDone, false, ""},
		{"other version", "@enclavebench/2 {}", "", false, "version mismatch"},
		{"bad json", Prefix + `{"type":`, "", false, "malformed"},
		{"unknown field", Prefix + `{"type":"done","bogus":1}`, "", false, "malformed"},
		{"unknown type", Prefix + `{"type":"nope"}`, "", false, "unknown message type"},
		{"trailing", Prefix + `{"type":"done"} {}`, "", false, "trailing"},
		{"sample without values", Prefix + `{"type":"sample","sample":{"iters":1,"values":[]}}`, "", false, "without values"},
		{"sample bad direction", Prefix + `{"type":"sample","sample":{"iters":1,"values":[{"value":1,"unit":"ns/op","better":"up"}]}}`, "", false, "direction"},
		{"na without reason", Prefix + `{"type":"na"}`, "", false, "without a reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.line))
			switch {
			case tt.foreign:
				if !errors.Is(err, ErrForeign) {
					t.Fatalf("Parse(%q) = %v, %v; want ErrForeign", tt.line, m, err)
				}
			case tt.errSub != "":
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("Parse(%q) error = %v; want one containing %q", tt.line, err, tt.errSub)
				}
			default:
				if err != nil || m.Type != tt.want {
					t.Fatalf("Parse(%q) = %+v, %v; want type %s", tt.line, m, err, tt.want)
				}
			}
		})
	}
}

func genValue(t *rapid.T) Value {
	return Value{
		Value:  rapid.Float64Range(-1e12, 1e12).Draw(t, "v"),
		Unit:   rapid.SampledFrom([]string{"ns/op", "MB/s", "ops/s", "p99-ns"}).Draw(t, "unit"),
		Better: rapid.SampledFrom([]string{Lower, Higher}).Draw(t, "better"),
	}
}

// TestRoundTrip: every valid message survives Encode then Parse unchanged.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var m Message
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0:
			m = Message{Type: TypeHello, Workload: rapid.String().Draw(t, "w"), PID: rapid.IntRange(0, 1<<22).Draw(t, "pid"),
				GOMAXPROCS: rapid.IntRange(0, 64).Draw(t, "gmp"), Arena: rapid.String().Draw(t, "arena")}
		case 1:
			s := &Sample{Rep: rapid.IntRange(0, 100).Draw(t, "rep"), Iters: rapid.IntRange(1, 1<<30).Draw(t, "iters"),
				ElapsedNS: rapid.Int64Range(0, 1<<40).Draw(t, "el")}
			s.Values = rapid.SliceOfN(rapid.Custom(genValue), 1, 5).Draw(t, "values")
			if rapid.Bool().Draw(t, "events") {
				s.Events = rapid.MapOfN(rapid.StringMatching(`[a-z_]{1,12}`), rapid.Int64Range(0, 1<<40), 1, 5).Draw(t, "ev")
			}
			m = Message{Type: TypeSample, Sample: s}
		case 2:
			m = Message{Type: TypeNA, Error: rapid.StringN(1, 50, -1).Draw(t, "reason")}
		default:
			m = Message{Type: TypeDone, ElapsedNS: rapid.Int64Range(0, 1<<40).Draw(t, "el"),
				Extra: rapid.MapOf(rapid.String(), rapid.String()).Draw(t, "extra")}
			if len(m.Extra) == 0 {
				m.Extra = nil
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, m); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("encoded message is not one line: %q", buf.String())
		}
		got, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("Parse(%q): %v", buf.String(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
		}
	})
}

func TestEncodeRejectsInvalid(t *testing.T) {
	t.Parallel()
	bad := []Message{
		{Type: "x"},
		{Type: TypeSample},
		{Type: TypeSample, Sample: &Sample{Iters: 0, Values: []Value{{1, "ns/op", Lower}}}},
		{Type: TypeError},
	}
	for _, m := range bad {
		if err := Encode(&bytes.Buffer{}, m); err == nil {
			t.Errorf("Encode(%+v) succeeded; want an error", m)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Prefix + `{"type":"sample","sample":{"rep":0,"iters":3,"elapsed_ns":9,"values":[{"value":3,"unit":"ns/op","better":"lower"}]}}`))
	f.Add([]byte("[erthost] entering enclave ..."))
	f.Add([]byte(Prefix + `{"type":"hello"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := Parse(line)
		if err != nil {
			return
		}
		// Whatever parses is valid and re-encodes to something that parses the same.
		if verr := m.Validate(); verr != nil {
			t.Fatalf("Parse accepted an invalid message: %v", verr)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, m); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := Parse(buf.Bytes())
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parse: %v\n%+v\n%+v", err, m, m2)
		}
	})
}
