// Command kstatus-verdicts prints the health verdict kustomize-controller's health checks reach
// for each object: the status readers its StatusPoller uses (Flux's custom Job reader, then
// kstatus's status.Compute for every other kind), at the versions kustomize-controller pins.
//
// It reads a JSON array of objects on stdin and writes a JSON array of {"status", "message"}
// in the same order. A reader's error is the Unknown status the poller reports, its message
// the error's text (the poller's ResourceStatus.Error, which the health check's error quotes).
// `kstatus-verdicts wait` runs the health check itself (wait.go) for each of a JSON array of
// cases and writes the error each ends with ("" when healthy). The simulator's Flux
// (simulator/world/kstatus.py, flux_health.py) is judged against both.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/runtime/statusreaders"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

var jobs = statusreaders.NewCustomJobStatusReader(nil)

func judge(object map[string]interface{}) verdict {
	u := &unstructured.Unstructured{Object: object}
	if u.GroupVersionKind().Group == "batch" && u.GetKind() == "Job" {
		// The reader itself: it needs no cluster for a Job, and reports an error as the
		// poller does (Unknown, the error beside it), where ComputeJobStatus rewords it.
		read, err := jobs.ReadStatusForObject(context.Background(), nil, u)
		if err != nil {
			return verdict{string(status.UnknownStatus), err.Error()}
		}
		if read.Error != nil {
			return verdict{string(read.Status), read.Error.Error()}
		}
		return verdict{string(read.Status), read.Message}
	}
	result, err := status.Compute(u)
	if err != nil {
		return verdict{string(status.UnknownStatus), err.Error()}
	}
	return verdict{string(result.Status), result.Message}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "wait" {
		waitMain()
		return
	}
	// apimachinery's decoder, as client-go's for unstructured objects: whole numbers as int64,
	// the rest as float64 (kstatus reads replicas only from the former).
	var objects []map[string]interface{}
	input, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = utiljson.Unmarshal(input, &objects)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus-verdicts: reading objects: %v\n", err)
		os.Exit(2)
	}
	verdicts := make([]verdict, 0, len(objects))
	for _, object := range objects {
		verdicts = append(verdicts, judge(object))
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus-verdicts: writing verdicts: %v\n", err)
		os.Exit(1)
	}
}

// waitMain reads a JSON array of wait cases and writes each one's error ("" when healthy).
func waitMain() {
	var cases []waitCase
	input, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = utiljson.Unmarshal(input, &cases)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus-verdicts wait: reading cases: %v\n", err)
		os.Exit(2)
	}
	// Each case waits out its own timeout when it does not settle: together, not in turn.
	errs := make([]string, len(cases))
	failures := make([]error, len(cases))
	var group sync.WaitGroup
	for i, c := range cases {
		group.Add(1)
		go func() {
			defer group.Done()
			errs[i], failures[i] = waitFor(c)
		}()
	}
	group.Wait()
	for _, err := range failures {
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus-verdicts wait: %v\n", err)
			os.Exit(1)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(errs); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus-verdicts wait: writing: %v\n", err)
		os.Exit(1)
	}
}
