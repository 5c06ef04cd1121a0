package postgres

import (
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

// The statements of a batch write every row of a table from arrays, one
// array per column (INSERT … SELECT FROM unnest(…)): one statement, parsed
// and planned once, whatever the batch's size. The arrays are typed in
// the statement, so that the server never guesses them.

func queueTiles(q *pgx.Batch, tiles []tlog.TileData) {
	if len(tiles) == 0 {
		return
	}
	// A batch has each tile once, at its new width: no row is upserted
	// twice in the statement (which the server would refuse).
	levels, ns, data := make([]int64, len(tiles)), make([]int64, len(tiles)), make([][]byte, len(tiles))
	for i, t := range tiles {
		levels[i], ns[i], data[i] = int64(t.Tile.L), t.Tile.N, t.Data
	}
	q.Queue(`INSERT INTO tiles (level, n, data) SELECT * FROM unnest($1::INT8[], $2::INT8[], $3::BYTEA[])
		ON CONFLICT (level, n) DO UPDATE SET data = excluded.data`, levels, ns, data)
}

// queueBundles appends each bundle's new bytes as a fragment. A bundle
// that fills keeps its fragments rather than being written again whole
// (as SQLite's store does): rewriting 256 entries, compressed and split
// again into TOAST chunks, doubled the bytes a batch wrote for its
// entries; a full bundle is read as its fragments in one range scan, and
// the server's cache of full tiles keeps it after.
func queueBundles(q *pgx.Batch, bundles []tlog.TileData, stored []int) {
	if len(bundles) == 0 {
		return
	}
	ns, firsts, data := make([]int64, len(bundles)), make([]int64, len(bundles)), make([][]byte, len(bundles))
	for i, t := range bundles {
		ns[i], firsts[i], data[i] = t.Tile.N, int64(stored[i]), t.Data[stored[i]:]
	}
	q.Queue(`INSERT INTO bundles (n, first, data) SELECT * FROM unnest($1::INT8[], $2::INT8[], $3::BYTEA[])`, ns, firsts, data)
}

// recordRows are a batch's records as the columns of their rows, with
// their search rows and the keys they are found by: all that does not
// depend on what the store holds, worked out while the tree's lock is
// being taken.
type recordRows struct {
	types, ids, parties, againsts, categories, statuses []string
	members, parents, visibilities, owners              []string
	froms, tos, createds, updateds                      []int64
	lats, lons                                          []*float64
	docs                                                [][]byte

	sTypes, sIDs, titles, bodies, words []string
	kTypes, kIDs, kFields, kValues      []string
	kCreated                            []int64
	dTypes, dIDs, dFields               []string
}

func newRecordRows(recs []truce.Record) *recordRows {
	recs = lastOfEach(recs)
	n := len(recs)
	r := &recordRows{
		types: make([]string, n), ids: make([]string, n), parties: make([]string, n), againsts: make([]string, n),
		categories: make([]string, n), statuses: make([]string, n), members: make([]string, n), parents: make([]string, n),
		visibilities: make([]string, n), owners: make([]string, n),
		froms: make([]int64, n), tos: make([]int64, n), createds: make([]int64, n), updateds: make([]int64, n),
		lats: make([]*float64, n), lons: make([]*float64, n), docs: make([][]byte, n),
		sTypes: []string{}, sIDs: []string{}, titles: []string{}, bodies: []string{}, words: []string{},
	}
	for i, rec := range recs {
		r.types[i], r.ids[i] = rec.Type, rec.ID
		r.parties[i], r.againsts[i], r.categories[i], r.statuses[i] = rec.Party, rec.Against, rec.Category, rec.Status
		r.members[i], r.parents[i], r.visibilities[i], r.owners[i] = rec.Member, rec.Parent, string(rec.Visibility), rec.Owner
		r.froms[i], r.tos[i], r.lats[i], r.lons[i] = rec.From, rec.To, rec.Lat, rec.Lon
		r.createds[i], r.updateds[i], r.docs[i] = rec.Created, rec.Updated, rec.Doc
		if title, body, ok := store.SearchText(rec.Type, rec.Doc); ok {
			r.sTypes, r.sIDs, r.titles, r.bodies = append(r.sTypes, rec.Type), append(r.sIDs, rec.ID), append(r.titles, title), append(r.bodies, body)
			r.words = append(r.words, strings.Join(indexWords(title+"\n"+body), " "))
		}
		for _, f := range store.Findable[rec.Type] {
			if v, ok := docField(rec.Doc, f); ok {
				r.kTypes, r.kIDs, r.kFields, r.kValues = append(r.kTypes, rec.Type), append(r.kIDs, rec.ID), append(r.kFields, f), append(r.kValues, v)
				r.kCreated = append(r.kCreated, rec.Created)
			} else {
				r.dTypes, r.dIDs, r.dFields = append(r.dTypes, rec.Type), append(r.dIDs, rec.ID), append(r.dFields, f)
			}
		}
	}
	return r
}

// queueRecords upserts the records, a record new to the store taking the
// next seq after the largest stored, with their search rows and keys. The
// search rows take the record's seq from the upsert's own RETURNING (a
// record already stored keeps the seq it has), not from a read of the
// records table, whose plan a server may choose badly while the table is
// young and keep (an index scan of every record of the type, per row).
func queueRecords(q *pgx.Batch, r *recordRows) {
	if len(r.types) == 0 {
		return
	}
	ks := make([]int64, len(r.types))
	for i := range ks {
		ks[i] = int64(i) + 1
	}
	q.Queue(`WITH r AS (
			INSERT INTO records (type, id, seq, party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc)
			SELECT u.type, u.id, m.last + u.k, u.party, u.against, u.category, u.status, u.member, u.parent,
				u.visibility, u.owner, u.t_from, u.t_to, u.lat, u.lon, u.created, u.updated, u.doc
			FROM unnest($1::TEXT[], $2::TEXT[], $3::INT8[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[],
				$10::TEXT[], $11::TEXT[], $12::INT8[], $13::INT8[], $14::FLOAT8[], $15::FLOAT8[], $16::INT8[], $17::INT8[], $18::BYTEA[])
				AS u (type, id, k, party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc),
				(SELECT COALESCE(MAX(seq), 0) AS last FROM records) AS m
			ON CONFLICT (type, id) DO UPDATE SET party = excluded.party, against = excluded.against,
			category = excluded.category, status = excluded.status, member = excluded.member, parent = excluded.parent,
			visibility = excluded.visibility, owner = excluded.owner, t_from = excluded.t_from, t_to = excluded.t_to,
			lat = excluded.lat, lon = excluded.lon, updated = excluded.updated, doc = excluded.doc
			RETURNING type, id, seq
		)
		INSERT INTO search (seq, title, body, words)
		SELECT r.seq, u.title, u.body, to_tsvector('simple', u.words)
		FROM unnest($19::TEXT[], $20::TEXT[], $21::TEXT[], $22::TEXT[], $23::TEXT[]) AS u (type, id, title, body, words)
		JOIN r ON r.type = u.type AND r.id = u.id
		ON CONFLICT (seq) DO UPDATE SET title = excluded.title, body = excluded.body, words = excluded.words`,
		r.types, r.ids, ks, r.parties, r.againsts, r.categories, r.statuses, r.members, r.parents, r.visibilities, r.owners,
		r.froms, r.tos, r.lats, r.lons, r.createds, r.updateds, r.docs,
		r.sTypes, r.sIDs, r.titles, r.bodies, r.words)
	if len(r.kTypes) > 0 {
		// A record's creation is the index of the entry that created it,
		// the same in the batch as in the store.
		q.Queue(`INSERT INTO record_keys (type, id, field, value, created)
			SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::INT8[])
			ON CONFLICT (type, id, field) DO UPDATE SET value = excluded.value`, r.kTypes, r.kIDs, r.kFields, r.kValues, r.kCreated)
	}
	if len(r.dTypes) > 0 {
		q.Queue(`DELETE FROM record_keys WHERE (type, id, field) IN (SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]))`, r.dTypes, r.dIDs, r.dFields)
	}
}

// lastOfEach keeps one record of each type and id, where it first comes,
// as the last one of them says it: what upserting them one by one would
// leave, in a form one statement can upsert (the server refuses to upsert
// a row twice in one statement).
func lastOfEach(recs []truce.Record) []truce.Record {
	at := make(map[truce.Ref]int, len(recs))
	var out []truce.Record
	for _, r := range recs {
		ref := truce.Ref{Type: r.Type, ID: r.ID}
		if i, ok := at[ref]; ok {
			out[i] = r
			continue
		}
		at[ref] = len(out)
		out = append(out, r)
	}
	return out
}

func queueHistory(q *pgx.Batch, hs []truce.HistoryItem) {
	if len(hs) == 0 {
		return
	}
	n := len(hs)
	types, ids, kinds, authors, loggeds := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	idxs, custodial := make([]int64, n), make([]bool, n)
	for i, h := range hs {
		types[i], ids[i], idxs[i], kinds[i], authors[i], loggeds[i], custodial[i] = h.Type, h.ID, h.Index, h.Kind, h.Author, h.Logged, h.Custodial
	}
	q.Queue(`INSERT INTO history (type, id, idx, kind, author, logged, custodial)
		SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::INT8[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::BOOL[])`,
		types, ids, idxs, kinds, authors, loggeds, custodial)
}

func queueSealed(q *pgx.Batch, xs []store.Sealed) {
	if len(xs) == 0 {
		return
	}
	n := len(xs)
	commitments, rtypes, rids := make([]string, n), make([]string, n), make([]string, n)
	idxs, bodies := make([]int64, n), make([]bool, n)
	salts, contents := make([][]byte, n), make([][]byte, n)
	for i, x := range xs {
		commitments[i], idxs[i], salts[i], contents[i], bodies[i], rtypes[i], rids[i] = x.Commitment, x.Index, x.Salt, x.Content, x.Body, x.Record.Type, x.Record.ID
	}
	q.Queue(`INSERT INTO sealed (commitment, idx, salt, content, body, rtype, rid)
		SELECT * FROM unnest($1::TEXT[], $2::INT8[], $3::BYTEA[], $4::BYTEA[], $5::BOOL[], $6::TEXT[], $7::TEXT[])`,
		commitments, idxs, salts, contents, bodies, rtypes, rids)
}
