package server

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/truce-mvm/truce/internal/sequencer"
)

// metrics are the server's figures, in its own registry: the requests it
// answered, and the log's, read when scraped.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(s *Server, o Options) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "truce_http_requests_total", Help: "Requests answered, by route pattern and status.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "truce_http_request_duration_seconds", Help: "Time to answer a request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&logCollector{s: s, o: o})
	return m
}

func (m *metrics) request(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, statusText(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

var (
	descSize       = prometheus.NewDesc("truce_log_size_entries", "Entries in the log (committed).", nil, nil)
	descAppended   = prometheus.NewDesc("truce_log_entries_appended_total", "Entries this process appended to the log.", nil, nil)
	descBatches    = prometheus.NewDesc("truce_log_batch_size_entries", "Entries per committed batch.", nil, nil)
	descCheckpoint = prometheus.NewDesc("truce_log_checkpoint_age_seconds", "Time since the newest checkpoint was signed (or, for one signed before this process started, since it started).", nil, nil)
	descStoreErrs  = prometheus.NewDesc("truce_store_errors_total", "Store failures: batches the store did not commit (op=append), readiness probes it failed (op=probe).", []string{"op"}, nil)
	descRole       = prometheus.NewDesc("truce_node_role", "The node's role: 1 for the role it has.", []string{"role"}, nil)
	descCosigned   = prometheus.NewDesc("truce_witness_cosigned_size_entries", "Entries covered by the newest checkpoint a quorum of witnesses cosigned.", nil, nil)
	descLagEntries = prometheus.NewDesc("truce_witness_lag_entries", "Entries signed in a checkpoint but not yet covered by a cosigned one.", nil, nil)
	descLagSeconds = prometheus.NewDesc("truce_witness_lag_seconds", "Age of the oldest checkpoint the witnesses have not cosigned (0: all cosigned).", nil, nil)
)

// logCollector reads the log's figures when scraped.
type logCollector struct {
	s *Server
	o Options
}

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSize, descAppended, descBatches, descCheckpoint, descStoreErrs, descRole} {
		ch <- d
	}
	if c.o.Witnesses != nil {
		ch <- descCosigned
		ch <- descLagEntries
		ch <- descLagSeconds
	}
}

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	s, now := c.s, time.Now()
	seq := s.in.Seq
	st := seq.Stats()
	ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(seq.Snapshot().Size))
	ch <- prometheus.MustNewConstMetric(descAppended, prometheus.CounterValue, float64(st.Entries))
	buckets := map[float64]uint64{}
	var cum uint64
	for i, b := range sequencer.BatchBuckets {
		cum += uint64(st.BatchSizes[i])
		buckets[float64(b)] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descBatches, uint64(st.Batches), float64(st.Entries), buckets)
	ch <- prometheus.MustNewConstMetric(descCheckpoint, prometheus.GaugeValue, s.follow.checkpointAge(now).Seconds())
	ch <- prometheus.MustNewConstMetric(descStoreErrs, prometheus.CounterValue, float64(st.StoreErrors), "append")
	ch <- prometheus.MustNewConstMetric(descStoreErrs, prometheus.CounterValue, float64(s.probeErrors.Load()), "probe")
	ch <- prometheus.MustNewConstMetric(descRole, prometheus.GaugeValue, 1, s.role())
	if c.o.Witnesses != nil {
		cosigned, entries, lag := s.follow.witnessLag(now)
		ch <- prometheus.MustNewConstMetric(descCosigned, prometheus.GaugeValue, float64(cosigned))
		ch <- prometheus.MustNewConstMetric(descLagEntries, prometheus.GaugeValue, float64(entries))
		ch <- prometheus.MustNewConstMetric(descLagSeconds, prometheus.GaugeValue, lag.Seconds())
	}
}
