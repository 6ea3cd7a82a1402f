package protocol

import (
	"bytes"
	"strings"
	"testing"
)

func TestReadyRoundTripAndValidation(t *testing.T) {
	t.Parallel()
	m := Message{Type: TypeReady, Addr: "127.0.0.1:40123", Load: &Load{Kind: LoadHTTP, Path: "/payload", Conns: 8}}
	var buf bytes.Buffer
	if err := Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != m.Addr || got.Load == nil || *got.Load != *m.Load {
		t.Fatalf("round trip: %+v", got)
	}
	for _, bad := range []Message{
		{Type: TypeReady, Load: m.Load},
		{Type: TypeReady, Addr: m.Addr},
		{Type: TypeReady, Addr: m.Addr, Load: &Load{Kind: LoadHTTP}},
		{Type: TypeReady, Addr: m.Addr, Load: &Load{Conns: 2}},
	} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ready") {
			t.Errorf("%+v: got %v", bad, err)
		}
	}
}
