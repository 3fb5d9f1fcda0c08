// Package opcount counts, at the client's wire, the billable operations a process makes:
// Firestore document reads, writes and deletes (gRPC interceptors on the Firestore
// client's connection, so the figures are what the emulator — or Firestore — was asked,
// not what our code believes it asked), Pub/Sub publishes and bytes, and HTTP calls
// (a RoundTripper). Benchmarks and the cost model use it; nothing deployed does.
package opcount

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// Counter holds named counts; safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	m  map[string]int64
}

// Names of the Firestore and Pub/Sub counts.
const (
	FSReads        = "firestore.reads"   // documents returned or looked up (billed: min. 1 per query)
	FSWrites       = "firestore.writes"  // update/set/transform writes in commits and batch writes
	FSDeletes      = "firestore.deletes" // delete writes
	FSRPCs         = "firestore.rpcs"    // round trips of any kind
	PSPublished    = "pubsub.messages"   // messages published
	PSBytes        = "pubsub.bytes"      // billed publish bytes (data + attributes, min. 1000 per request)
	PSPublishCalls = "pubsub.publish_requests"
)

// New returns an empty counter.
func New() *Counter { return &Counter{m: map[string]int64{}} }

// Add adds n to name.
func (c *Counter) Add(name string, n int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.m[name] += n
	c.mu.Unlock()
}

// Get returns the count of name.
func (c *Counter) Get(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name]
}

// Snapshot copies every count.
func (c *Counter) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Reset zeroes every count.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.m = map[string]int64{}
	c.mu.Unlock()
}

// Diff returns after − before per name (names only in after included).
func Diff(after, before map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func short(method string) string { return method[strings.LastIndex(method, "/")+1:] }

func (c *Counter) countRequest(req any) {
	switch r := req.(type) {
	case *firestorepb.CommitRequest:
		c.countWrites(r.GetWrites())
	case *firestorepb.BatchWriteRequest:
		c.countWrites(r.GetWrites())
	case *firestorepb.GetDocumentRequest:
		c.Add(FSReads, 1)
	case *pubsubpb.PublishRequest:
		c.Add(PSPublishCalls, 1)
		topic := r.GetTopic()[strings.LastIndex(r.GetTopic(), "/")+1:]
		var b int64
		for _, m := range r.GetMessages() {
			c.Add(PSPublished, 1)
			c.Add(PSPublished+"."+topic, 1)
			b += int64(len(m.GetData()))
			for k, v := range m.GetAttributes() {
				b += int64(len(k) + len(v))
			}
		}
		c.Add(PSBytes, max(b, 1000)) // Pub/Sub bills at least 1000 bytes per publish request
	}
}

func (c *Counter) countWrites(ws []*firestorepb.Write) {
	for _, w := range ws {
		if w.GetDelete() != "" {
			c.Add(FSDeletes, 1)
			c.Add(FSDeletes+"."+Collection(w.GetDelete()), 1)
		} else {
			c.Add(FSWrites, 1)
			c.Add(FSWrites+"."+Collection(w.GetUpdate().GetName()), 1)
		}
	}
}

// Collection is the collection id of a document name (…/documents/a/x/b/y → "b").
func Collection(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2]
}

// UnaryInterceptor counts unary calls (Commit, BatchWrite, Publish, …).
func (c *Counter) UnaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.Add("rpc."+short(method), 1)
	if strings.Contains(method, "firestore") {
		c.Add(FSRPCs, 1)
	}
	c.countRequest(req)
	return invoker(ctx, method, req, reply, cc, opts...)
}

// StreamInterceptor counts streaming calls (BatchGetDocuments, RunQuery, RunAggregationQuery):
// one read per document received, and one for a query that returns none.
func (c *Counter) StreamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.Add("rpc."+short(method), 1)
	if strings.Contains(method, "firestore") {
		c.Add(FSRPCs, 1)
	}
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return s, err
	}
	return &countStream{ClientStream: s, c: c, query: strings.HasSuffix(method, "/RunQuery") || strings.HasSuffix(method, "/RunAggregationQuery")}, nil
}

type countStream struct {
	grpc.ClientStream
	c     *Counter
	query bool
	docs  int
	done  bool
}

func (s *countStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil {
		switch r := m.(type) {
		case *firestorepb.BatchGetDocumentsResponse:
			if r.GetFound() != nil || r.GetMissing() != "" {
				s.docs++
				s.c.Add(FSReads, 1)
			}
		case *firestorepb.RunQueryResponse:
			if r.GetDocument() != nil {
				s.docs++
				s.c.Add(FSReads, 1)
			}
		case *firestorepb.RunAggregationQueryResponse:
			if r.GetResult() != nil {
				s.docs++
				s.c.Add(FSReads, 1)
			}
		}
		return nil
	}
	if err == io.EOF && s.query && s.docs == 0 && !s.done {
		s.done = true
		s.c.Add(FSReads, 1)
	}
	return err
}

func (s *countStream) SendMsg(m any) error {
	if pm, ok := m.(proto.Message); ok {
		s.c.countRequest(pm)
	}
	return s.ClientStream.SendMsg(m)
}

// DialOptions are the gRPC options that make a connection count into c.
func (c *Counter) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(c.UnaryInterceptor), grpc.WithChainStreamInterceptor(c.StreamInterceptor)}
}

// emulatorCreds is what the Firestore client sends the emulator (admin access).
type emulatorCreds struct{}

func (emulatorCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (emulatorCreds) RequireTransportSecurity() bool { return false }

// FirestoreOptions are client options for firestore.NewClient that count into c. With
// FIRESTORE_EMULATOR_HOST set, the client library replaces any dial option by its own
// connection, so this dials the emulator the way the library does, plus the interceptors.
func (c *Counter) FirestoreOptions() ([]option.ClientOption, error) {
	addr := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if addr == "" {
		var o []option.ClientOption
		for _, d := range c.DialOptions() {
			o = append(o, option.WithGRPCDialOption(d))
		}
		return o, nil
	}
	addr = strings.TrimPrefix(addr, "http://")
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorCreds{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	}, c.DialOptions()...)...)
	if err != nil {
		return nil, err
	}
	return []option.ClientOption{option.WithGRPCConn(conn)}, nil
}

// PubSubOptions are client options for pubsub.NewClient that count into c.
func (c *Counter) PubSubOptions() []option.ClientOption {
	var o []option.ClientOption
	for _, d := range c.DialOptions() {
		o = append(o, option.WithGRPCDialOption(d))
	}
	return o
}

// Transport counts HTTP requests by "host path-prefix" key under prefix and forwards to
// next (http.DefaultTransport when nil).
type Transport struct {
	C      *Counter
	Prefix string
	Next   http.RoundTripper
	// Key names a request; default "METHOD /first/two" path segments.
	Key func(*http.Request) string
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	k := r.Method + " " + r.URL.Path
	if t.Key != nil {
		k = t.Key(r)
	}
	t.C.Add(t.Prefix+k, 1)
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
