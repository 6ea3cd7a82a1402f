package host

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseERTVersion(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"release", "\x00\x7fELF..erthost v0.4.7 [%s:%s:%d]\x00", "0.4.7", ""},
		{"twice the same", "erthost v0.5.2 [a]\x00erthost v0.5.2 [b]", "0.5.2", ""},
		{"pre-release", "erthost v0.5.0-rc1 [%s]", "0.5.0-rc1", ""},
		{"absent", "\x00\x7fELF oe_debugger_contract_version", "", "does not contain"},
		{"no number", "erthost v [%s]", "", "does not contain"},
		{"two versions", "erthost v0.4.7 x erthost v0.4.8", "", "both v0.4.7 and v0.4.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseERTVersion("ego-host", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseERTVersion = %q, %v; want error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseERTVersion = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// EGo finds ego-host relative to its own executable, so a symlinked
// launcher (/usr/local/bin/ego -> /opt/ego/bin/ego) must be followed.
func TestERTVersionNextToFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	install := filepath.Join(dir, "opt", "ego", "bin")
	if err := os.MkdirAll(install, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"ego": "launcher", "ego-host": "...erthost v0.4.7 [%s:%s:%d]..."} {
		if err := os.WriteFile(filepath.Join(install, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "ego")
	if err := os.Symlink(filepath.Join(install, "ego"), link); err != nil {
		t.Fatal(err)
	}
	if v, err := ERTVersionNextTo(link); err != nil || v != "0.4.7" {
		t.Fatalf("ERTVersionNextTo(symlink) = %q, %v; want 0.4.7", v, err)
	}
	if err := os.Remove(filepath.Join(install, "ego-host")); err != nil {
		t.Fatal(err)
	}
	if v, err := ERTVersionNextTo(link); err == nil || !strings.Contains(err.Error(), "ego-host") {
		t.Fatalf("without ego-host: %q, %v; want an error naming ego-host", v, err)
	}
}

func FuzzParseERTVersion(f *testing.F) {
	f.Add([]byte("erthost v0.4.7 [%s:%s:%d]"))
	f.Add([]byte("erthost v1.2.3erthost v1.2.4"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseERTVersion("f", b)
		if (v == "") == (err == nil) {
			t.Fatalf("ParseERTVersion = %q, %v: exactly one of them must be set", v, err)
		}
		if err == nil && !strings.Contains(string(b), "erthost v"+v) {
			t.Fatalf("version %q is not in the input", v)
		}
	})
}

func TestEGoDescribe(t *testing.T) {
	for _, tc := range []struct {
		e    EGo
		want string
	}{
		{EGo{}, "not installed"},
		{EGo{Error: "/x/ego printed no EGo version banner"}, "unusable: /x/ego printed no EGo version banner"},
		{EGo{Installed: true, Version: "1.9.0", Commit: "b2d4c6e"}, "EGo 1.9.0 b2d4c6e"},
		{EGo{Installed: true, Version: "1.6.0", Commit: "9ea3017b", ERTVersion: "0.4.7", GoVersion: "go1.26.8"},
			"EGo 1.6.0 9ea3017b, Edgeless RT v0.4.7, ego-go go1.26.8"},
		{EGo{Installed: true, Version: "1.6.0", ERTNote: "Edgeless RT version unknown: no ego-host"}, "EGo 1.6.0"},
	} {
		if got := tc.e.Describe(); got != tc.want {
			t.Errorf("%+v.Describe() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

// The metadata service is asked only where SMBIOS says this is an Azure
// VM, unless ENCLAVEBENCH_IMDS says otherwise; elsewhere nothing is sent
// and the fingerprint says why.
func TestIMDSOnlyOnAzure(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprint(w, `{"compute":{"vmSize":"Standard_DC2s_v2"}}`)
	}))
	defer srv.Close()
	saved := defaultIMDS
	defaultIMDS = srv.URL
	defer func() { defaultIMDS = saved }()
	dmi := func(vendor, tag string) string {
		root := t.TempDir()
		if vendor == "" {
			return root // no SMBIOS tables (a container, a non-x86 board)
		}
		dir := filepath.Join(root, "sys", "class", "dmi", "id")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "sys_vendor"), []byte(vendor+"\n"), 0o444)
		os.WriteFile(filepath.Join(dir, "chassis_asset_tag"), []byte(tag+"\n"), 0o444)
		return root
	}
	azure := dmi("Microsoft Corporation", "7783-7084-3265-9085-8269-3286-77")
	hyperv := dmi("Microsoft Corporation", "None") // Hyper-V outside Azure
	laptop := dmi("LENOVO", "No Asset Tag")
	none := dmi("", "")
	for _, tt := range []struct {
		name, env, root string
		asked           bool
		note            string
	}{
		{"azure, unset", "", azure, true, ""},
		{"azure, auto", "auto", azure, true, ""},
		{"hyper-v", "", hyperv, false, `not an Azure VM (SMBIOS system vendor "Microsoft Corporation", chassis asset tag "None")`},
		{"laptop", "auto", laptop, false, `not an Azure VM (SMBIOS system vendor "LENOVO"`},
		{"no smbios", "", none, false, "not an Azure VM (no SMBIOS system vendor"},
		{"forced", "on", laptop, true, ""},
		{"an address", srv.URL, laptop, true, ""},
		{"off on azure", "off", azure, false, "instance metadata query disabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(IMDSEnv, tt.env)
			o := DefaultOptions()
			o.Root = tt.root
			if err := o.Check(); err != nil {
				t.Fatal(err)
			}
			before := hits
			f := Collect(context.Background(), o)
			if asked := hits > before; asked != tt.asked {
				t.Errorf("asked the metadata service: %v, want %v", asked, tt.asked)
			}
			if tt.asked && f.AzureSize != "Standard_DC2s_v2" || !strings.Contains(f.AzureNote, tt.note) || (tt.note == "") != (f.AzureNote == "") {
				t.Errorf("size %q, note %q; want note containing %q", f.AzureSize, f.AzureNote, tt.note)
			}
		})
	}
	for _, bad := range []string{"yes", "Off", "169.254.169.254", "ftp://x"} {
		if err := (Options{IMDS: bad}).Check(); err == nil {
			t.Errorf("IMDS %q passed Check", bad)
		}
	}
}
