// Package kubernetes holds the tests of the Kubernetes manifests beside
// it: every kustomization builds, its output validates against the
// Kubernetes and prometheus-operator schemas, and it carries what the rest
// of the repository says (the rules of alerts/, the dashboards, the
// image's user, the listen port, the scrape interval).
//
// The PrometheusRule, the dashboards' ConfigMaps and the configurations
// are generated from alerts/, dashboards/ and examples/:
//
//	go generate ./deploy/kubernetes
package kubernetes

//go:generate go run ../../internal/k8sgen -root ../..
