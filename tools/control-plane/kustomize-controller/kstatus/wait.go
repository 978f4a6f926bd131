package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/clusterreader"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/statusreaders"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// waitCase is one health check: the objects in the cluster, the ones it waits on (ObjMetadata:
// apiVersion, kind, namespace, name) and which of those are Jobs with a TTL.
type waitCase struct {
	// Raw, for apimachinery's decoder (whole numbers as int64): encoding/json, which decodes
	// the case, would make every number a float64, which kstatus reads as absent.
	Objects []json.RawMessage `json:"objects"`
	Set     []reference       `json:"set"`
	TTL     []reference       `json:"ttl"`
}

type reference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
}

func (r reference) metadata() object.ObjMetadata {
	gv, _ := schema.ParseGroupVersion(r.APIVersion)
	return object.ObjMetadata{
		Namespace: r.Namespace,
		Name:      r.Name,
		GroupKind: schema.GroupKind{Group: gv.Group, Kind: r.Kind},
	}
}

// waitFor runs fluxcd/pkg/ssa's WaitForSetWithContext as kustomize-controller's checkHealth
// calls it (fail-fast, Flux's Job reader first), over a fake client holding the objects. The
// objects never change, so a short timeout stands for the Kustomization's: what the wait
// decides at its first poll it decides then, and anything else is its timeout's verdict.
func waitFor(c waitCase) (string, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return "", err
	}
	objects := make([]client.Object, 0, len(c.Objects))
	namespaced := map[schema.GroupVersionKind]bool{
		// What the Deployment and StatefulSet readers look up beside their object.
		{Group: "apps", Version: "v1", Kind: "ReplicaSet"}: true,
		{Version: "v1", Kind: "Pod"}:                       true,
	}
	for _, raw := range c.Objects {
		decoded := map[string]interface{}{}
		if err := utiljson.Unmarshal(raw, &decoded); err != nil {
			return "", err
		}
		u := &unstructured.Unstructured{Object: decoded}
		namespaced[u.GroupVersionKind()] = u.GetNamespace() != ""
		objects = append(objects, u)
	}
	for _, ref := range c.Set {
		gv, _ := schema.ParseGroupVersion(ref.APIVersion)
		namespaced[gv.WithKind(ref.Kind)] = ref.Namespace != ""
	}
	// A mapper finds a kind by group only through the group versions it was made with.
	var versions []schema.GroupVersion
	for gvk := range namespaced {
		versions = append(versions, gvk.GroupVersion())
	}
	mapper := meta.NewDefaultRESTMapper(versions)
	for gvk, inNamespace := range namespaced {
		scope := meta.RESTScopeRoot
		if inNamespace {
			scope = meta.RESTScopeNamespace
		}
		mapper.Add(gvk, scope)
		if !scheme.Recognizes(gvk) {
			scheme.AddKnownTypeWithName(gvk, &unstructured.Unstructured{})
			list := gvk
			list.Kind += "List"
			scheme.AddKnownTypeWithName(list, &unstructured.UnstructuredList{})
		}
	}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(mapper).WithObjects(objects...).Build()
	// kustomize-controller's defaults: the direct cluster reader (DisableStatusPollerCache is
	// on), Flux's Job reader before kstatus' own.
	poller := polling.NewStatusPoller(kube, mapper, polling.Options{
		CustomStatusReaders:  []engine.StatusReader{statusreaders.NewCustomJobStatusReader(mapper)},
		ClusterReaderFactory: engine.ClusterReaderFactoryFunc(clusterreader.NewDirectClusterReader),
	})
	manager := ssa.NewResourceManager(kube, poller, ssa.Owner{Field: "kustomize-controller"})
	set := object.ObjMetadataSet{}
	for _, ref := range c.Set {
		set = append(set, ref.metadata())
	}
	ttl := object.ObjMetadataSet{}
	for _, ref := range c.TTL {
		ttl = append(ttl, ref.metadata())
	}
	err := manager.WaitForSetWithContext(context.Background(), set, ssa.WaitOptions{
		Interval:    20 * time.Millisecond,
		Timeout:     2 * time.Second,
		FailFast:    true,
		JobsWithTTL: ttl,
	})
	if err != nil {
		return err.Error(), nil
	}
	return "", nil
}
