package realnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is the node's cluster DNS: it answers A queries for
// <service>.<namespace>.svc.cluster.local with the service's ready endpoint
// addresses (the kubernetes Service with ServiceIP), and NXDOMAIN for every
// other name. It never forwards a query.
type DNS struct {
	conn     net.PacketConn
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	stopCh   chan struct{}
	wg       sync.WaitGroup
}

const dnsTTL = 5

// startDNS answers from informer caches of Services and EndpointSlices: a
// query never waits for the apiserver, which a loaded machine makes slow
// (an answer that came too late would read as "no such host").
func startDNS(ctx context.Context, addr string, client kubernetes.Interface) (*DNS, error) {
	f := informers.NewSharedInformerFactory(client, 0)
	d := &DNS{services: f.Core().V1().Services().Lister(), slices: f.Discovery().V1().EndpointSlices().Lister(),
		stopCh: make(chan struct{})}
	f.Start(d.stopCh)
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			close(d.stopCh)
			return nil, fmt.Errorf("dns: %v informer did not sync", typ)
		}
	}
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		close(d.stopCh)
		return nil, err
	}
	d.conn = conn
	d.wg.Add(1)
	go d.serve()
	return d, nil
}

func (d *DNS) serve() {
	defer d.wg.Done()
	buf := make([]byte, 1500)
	for {
		nr, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if reply, ok := d.answer(buf[:nr]); ok {
			_, _ = d.conn.WriteTo(reply, from)
		}
	}
}

// answer builds the reply to one query; false drops an unparsable packet.
func (d *DNS) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	hdr, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	rcode, addrs := dnsmessage.RCodeSuccess, []netip.Addr(nil)
	if q.Class == dnsmessage.ClassINET {
		var found bool
		addrs, found = d.lookup(strings.ToLower(strings.TrimSuffix(q.Name.String(), ".")))
		if !found {
			rcode = dnsmessage.RCodeNameError
		}
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true,
		RecursionDesired: hdr.RecursionDesired, RCode: rcode})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if q.Type == dnsmessage.TypeA {
		for _, a := range addrs {
			rh := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: dnsTTL}
			if err := b.AResource(rh, dnsmessage.AResource{A: a.As4()}); err != nil {
				return nil, false
			}
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// lookup resolves a service name; found is false for names that do not
// exist (NXDOMAIN).
func (d *DNS) lookup(name string) (addrs []netip.Addr, found bool) {
	svc, ns, ok := serviceName(name)
	if !ok {
		return nil, false
	}
	if svc == "kubernetes" && ns == "default" {
		return []netip.Addr{netip.MustParseAddr(ServiceIP)}, true
	}
	if _, err := d.services.Services(ns).Get(svc); err != nil {
		return nil, false
	}
	slices, err := d.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc}))
	if err != nil {
		return nil, true
	}
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() {
					addrs = append(addrs, ip)
				}
			}
		}
	}
	return addrs, true
}

// serviceName splits "<svc>.<ns>.svc.cluster.local".
func serviceName(name string) (svc, ns string, ok bool) {
	rest, ok := strings.CutSuffix(name, ".svc."+ClusterDomain)
	if !ok {
		return "", "", false
	}
	svc, ns, ok = strings.Cut(rest, ".")
	return svc, ns, ok && svc != "" && ns != "" && !strings.Contains(ns, ".")
}

func (d *DNS) stop() {
	d.conn.Close()
	d.wg.Wait()
	close(d.stopCh)
}
