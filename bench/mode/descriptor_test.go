package mode_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/ego"
	"github.com/enclavebench/enclavebench/bench/mode"
	_ "github.com/enclavebench/enclavebench/bench/mode/all"
	"github.com/enclavebench/enclavebench/bench/sim"
)

func TestRegisteredModes(t *testing.T) {
	if got, want := mode.Names(), []string{mode.Native, ego.SGX, ego.EGoSim, sim.Name}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v (by rank)", got, want)
	}
	tests := []struct {
		name                  string
		kind                  mode.Kind
		enclave, load, sgx, e bool
		label                 string
	}{
		{mode.Native, mode.Measured, false, false, false, false, "native"},
		{ego.SGX, mode.Measured, true, true, true, true, "sgx"},
		{ego.EGoSim, mode.Emulated, true, true, false, true, "ego-sim"},
		{sim.Name, mode.Model, true, false, false, false, "sim (model, profile p1)"},
	}
	for _, tt := range tests {
		d, ok := mode.Lookup(tt.name)
		if !ok {
			t.Fatalf("%s is not registered", tt.name)
		}
		got := fmt.Sprint(d.Kind, d.Enclave, d.RecordsLoadTime, d.Needs.SGX, d.Needs.EGo, d.LabelFor("p1"))
		want := fmt.Sprint(tt.kind, tt.enclave, tt.load, tt.sgx, tt.e, tt.label)
		if got != want {
			t.Errorf("%s: kind, enclave, load time, SGX, EGo, label = %s; want %s", tt.name, got, want)
		}
		if d.Summary == "" {
			t.Errorf("%s has no summary", tt.name)
		}
	}
	if got := mode.Baseline(); got != mode.Native {
		t.Errorf("Baseline() = %q, want the one registered mode that is no enclave, %s", got, mode.Native)
	}
	if got := mode.Hardware(); got != ego.SGX {
		t.Errorf("Hardware() = %q, want the one enclave measured on SGX hardware, %s", got, ego.SGX)
	}
	if err := mode.Validate("tdx"); err == nil {
		t.Error("Validate(tdx) = nil, want an error naming the valid modes")
	}
}

func TestRegisterRefusesBadDescriptors(t *testing.T) {
	newNative := func(mode.Config) (mode.Mode, error) { return mode.NativeMode{}, nil }
	for _, d := range []mode.Descriptor{
		{Name: mode.Native, Label: "n", Kind: mode.Measured, New: newNative}, // duplicate
		{Name: "x", Label: "x", Kind: "guessed", New: newNative},
		{Name: "x", Label: "x", Kind: mode.Model},
		{Name: "x", Label: "x", Kind: mode.Model, New: newNative},    // no Note
		{Name: "x", Label: "x", Kind: mode.Emulated, New: newNative}, // no Note
		{Label: "x", Kind: mode.Model, New: newNative},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", d)
					mode.Unregister(d.Name)
				}
			}()
			mode.Register(d)
		}()
	}
}

func TestConfigError(t *testing.T) {
	err := fmt.Errorf("%w: heap too big", mode.ConfigError("enclave configuration"))
	if !errors.Is(err, mode.ErrConfig) || err.Error() != "enclave configuration: heap too big" {
		t.Errorf("ConfigError: Is(ErrConfig) = %v, text %q", errors.Is(err, mode.ErrConfig), err)
	}
}

// TestResultFolders: every file a registered mode keeps in a result
// directory lies under one of the folders ResultFolders lists, which a new
// run refuses to adopt.
func TestResultFolders(t *testing.T) {
	folders := mode.ResultFolders()
	n := 0
	for _, d := range mode.Descriptors() {
		if d.ProvenancePath == nil {
			continue
		}
		n++
		p := d.ProvenancePath("/r", "syscall/call=read/DC2s_v2/"+d.Name)
		if !slices.ContainsFunc(folders, func(f string) bool { return strings.HasPrefix(p, "/r/"+f+"/") }) {
			t.Errorf("%s keeps %s, outside %v", d.Name, p, folders)
		}
	}
	if n == 0 || len(folders) == 0 {
		t.Errorf("%d modes keep provenance, folders %v: want some of each", n, folders)
	}
}
