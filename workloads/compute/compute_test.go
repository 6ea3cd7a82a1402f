package compute

import (
	"crypto/sha256"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

func TestTasks(t *testing.T) {
	t.Parallel()
	for _, task := range []string{"sha256", "sort", "json"} {
		t.Run(task, func(t *testing.T) {
			t.Parallel()
			w, err := New(task)
			if err != nil {
				t.Fatal(err)
			}
			var r workload.Report
			if err := w.Run(3, &r); err != nil {
				t.Fatal(err)
			}
			if r.BytesPerOp <= 0 {
				t.Error("no bytes per op")
			}
			b := w.(*bench)
			switch task {
			case "sha256":
				if b.sum != sha256.Sum256(b.block) {
					t.Error("wrong digest")
				}
			case "sort":
				if !slices.IsSorted(b.work) {
					t.Error("not sorted")
				}
			case "json":
				if !reflect.DeepEqual(b.doc, b.back) {
					t.Errorf("round trip: %+v != %+v", b.back, b.doc)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	err := Spec.Validate(map[string]string{"task": "md5"}, workload.Env{})
	if err == nil || !strings.Contains(err.Error(), "compute.task=md5") || !strings.Contains(err.Error(), "sha256, sort, json") {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkSHA256Workload is the workload's loop; BenchmarkStdlibSHA256 is
// crypto/sha256 on the same 8 KiB block written the plain way (the
// standard library's BenchmarkHash8K). The workload must reach >= 90%.
func BenchmarkSHA256Workload(b *testing.B) {
	w, _ := New("sha256")
	var r workload.Report
	b.SetBytes(SHABlock)
	b.ResetTimer()
	w.Run(b.N, &r)
}

func BenchmarkStdlibSHA256(b *testing.B) {
	buf := make([]byte, SHABlock)
	b.SetBytes(SHABlock)
	var sum [32]byte
	for b.Loop() {
		sum = sha256.Sum256(buf)
	}
	_ = sum
}

func BenchmarkSortWorkload(b *testing.B) { benchTask(b, "sort") }
func BenchmarkJSONWorkload(b *testing.B) { benchTask(b, "json") }

func benchTask(b *testing.B, task string) {
	w, _ := New(task)
	var r workload.Report
	b.ReportAllocs()
	b.ResetTimer()
	w.Run(b.N, &r)
}
