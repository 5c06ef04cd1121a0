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

func queueBundles(q *pgx.Batch, bundles []tlog.TileData, stored []int) {
	if len(bundles) == 0 {
		return
	}
	var full, ns, firsts []int64
	var data [][]byte
	for i, t := range bundles {
		from := stored[i]
		if t.Tile.W == tlog.TileWidth && from > 0 {
			// The bundle is full: one row replaces its fragments.
			full = append(full, t.Tile.N)
			from = 0
		}
		ns, firsts, data = append(ns, t.Tile.N), append(firsts, int64(from)), append(data, t.Data[from:])
	}
	if len(full) > 0 {
		q.Queue(`DELETE FROM bundles WHERE n = ANY($1::INT8[])`, full)
	}
	q.Queue(`INSERT INTO bundles (n, first, data) SELECT * FROM unnest($1::INT8[], $2::INT8[], $3::BYTEA[])`, ns, firsts, data)
}

// queueRecords upserts recs, a record new to the store taking the next
// seq after last, with their search rows and the keys they are found by.
// The search rows take the record's seq from the upsert's own RETURNING (a
// record already stored keeps the seq it has), not from a read of the
// records table, whose plan a server may choose badly while the table is
// young and keep (an index scan of every record of the type, per row).
func queueRecords(q *pgx.Batch, recs []truce.Record, last int64) {
	if len(recs) == 0 {
		return
	}
	recs = lastOfEach(recs)
	n := len(recs)
	var (
		types, ids, parties, againsts, categories, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		members, parents, visibilities, owners              = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs, froms, tos, createds, updateds                = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		lats, lons                                          = make([]*float64, n), make([]*float64, n)
		docs                                                = make([][]byte, n)

		sTypes, sIDs, titles, bodies, words []string
		kTypes, kIDs, kFields, kValues      []string
		kCreated                            []int64
		dTypes, dIDs, dFields               []string
	)
	for i, r := range recs {
		types[i], ids[i], seqs[i] = r.Type, r.ID, last+int64(i)+1
		parties[i], againsts[i], categories[i], statuses[i] = r.Party, r.Against, r.Category, r.Status
		members[i], parents[i], visibilities[i], owners[i] = r.Member, r.Parent, string(r.Visibility), r.Owner
		froms[i], tos[i], lats[i], lons[i] = r.From, r.To, r.Lat, r.Lon
		createds[i], updateds[i], docs[i] = r.Created, r.Updated, r.Doc
		if title, body, ok := store.SearchText(r.Type, r.Doc); ok {
			sTypes, sIDs, titles, bodies = append(sTypes, r.Type), append(sIDs, r.ID), append(titles, title), append(bodies, body)
			words = append(words, strings.Join(indexWords(title+"\n"+body), " "))
		}
		for _, f := range store.Findable[r.Type] {
			if v, ok := docField(r.Doc, f); ok {
				kTypes, kIDs, kFields, kValues = append(kTypes, r.Type), append(kIDs, r.ID), append(kFields, f), append(kValues, v)
				kCreated = append(kCreated, r.Created)
			} else {
				dTypes, dIDs, dFields = append(dTypes, r.Type), append(dIDs, r.ID), append(dFields, f)
			}
		}
	}
	q.Queue(`WITH r AS (
			INSERT INTO records (type, id, seq, party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc)
			SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::INT8[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[],
				$10::TEXT[], $11::TEXT[], $12::INT8[], $13::INT8[], $14::FLOAT8[], $15::FLOAT8[], $16::INT8[], $17::INT8[], $18::BYTEA[])
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
		types, ids, seqs, parties, againsts, categories, statuses, members, parents, visibilities, owners, froms, tos, lats, lons, createds, updateds, docs,
		nonNil(sTypes), nonNil(sIDs), nonNil(titles), nonNil(bodies), nonNil(words))
	if len(kTypes) > 0 {
		// A record's creation is the index of the entry that created it,
		// the same in the batch as in the store.
		q.Queue(`INSERT INTO record_keys (type, id, field, value, created)
			SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::INT8[])
			ON CONFLICT (type, id, field) DO UPDATE SET value = excluded.value`, kTypes, kIDs, kFields, kValues, kCreated)
	}
	if len(dTypes) > 0 {
		q.Queue(`DELETE FROM record_keys WHERE (type, id, field) IN (SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[]))`, dTypes, dIDs, dFields)
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

// nonNil is s, or an empty array rather than NULL when s is nil: unnest
// of NULL is no rows too, but an empty array says what is meant.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
