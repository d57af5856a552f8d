package store

// SQLCond is one condition of a WHERE clause, its "?" placeholders taking
// Args in order.
type SQLCond struct {
	SQL  string
	Args []any
}

// GrantConds is the filter f of ListGrants as SQL over the grants table,
// the same in every backend: its conditions and its ORDER BY clause
// (keyset pagination on (created_at, id), which the grants_created index
// serves in both directions). f must have passed Validate.
func GrantConds(f GrantFilter) (conds []SQLCond, orderBy string) {
	add := func(sql string, args ...any) { conds = append(conds, SQLCond{SQL: sql, Args: args}) }
	if f.Agent != "" {
		add("agent = ?", f.Agent)
	}
	if !f.ActiveAt.IsZero() {
		add("revoked_at IS NULL AND expires_at > ?", f.ActiveAt.UnixMilli())
	}
	// The same order of tests as Grant.Status.
	at := f.StatusAt.UnixMilli()
	switch f.Status {
	case StatusRevoked:
		add("revoked_at IS NOT NULL")
	case StatusExpired:
		add("revoked_at IS NULL AND expires_at <= ?", at)
	case StatusPendingApproval:
		add("revoked_at IS NULL AND expires_at > ? AND pending = ?", at, PendingApproval)
	case StatusPendingSignature:
		add("revoked_at IS NULL AND expires_at > ? AND pending = ?", at, PendingSignature)
	case StatusSuspended:
		add("revoked_at IS NULL AND expires_at > ? AND pending = '' AND suspended_at IS NOT NULL", at)
	case StatusActive:
		add("revoked_at IS NULL AND expires_at > ? AND pending = '' AND suspended_at IS NULL", at)
	}
	dir, cmp := "", ">"
	if f.Newest {
		dir, cmp = " DESC", "<"
	}
	if f.After != nil {
		add("(created_at, id) "+cmp+" (?, ?)", f.After.CreatedAt.UnixMilli(), f.After.ID)
	}
	return conds, " ORDER BY created_at" + dir + ", id" + dir
}
