// A D1 binding that records round trips (a statement's first, all, run or raw, or a batch)
// and D1's billed rows. `first()` is served by `all()` (what D1 does underneath) so its
// `meta` can be read; used only in the untimed metering passes.
export function metered(db) {
  const totals = { trips: 0, rowsRead: 0, rowsWritten: 0 };
  const add = (meta) => {
    totals.rowsRead += meta?.rows_read ?? 0;
    totals.rowsWritten += meta?.rows_written ?? 0;
  };
  const patch = (statement) => {
    const bind = statement.bind.bind(statement);
    const all = statement.all.bind(statement);
    const run = statement.run.bind(statement);
    const raw = statement.raw.bind(statement);
    statement.bind = (...args) => patch(bind(...args));
    statement.all = async () => {
      totals.trips += 1;
      const result = await all();
      add(result.meta);
      return result;
    };
    statement.run = async () => {
      totals.trips += 1;
      const result = await run();
      add(result.meta);
      return result;
    };
    // raw() answers bare arrays, no meta: its round trip is counted, its rows cannot be.
    statement.raw = (...args) => {
      totals.trips += 1;
      return raw(...args);
    };
    statement.first = async (column) => {
      totals.trips += 1;
      const result = await all();
      add(result.meta);
      const row = result.results[0] ?? null;
      return column === undefined || row === null ? row : row[column];
    };
    return statement;
  };
  return {
    totals,
    db: {
      prepare: (query) => patch(db.prepare(query)),
      batch: async (statements) => {
        totals.trips += 1;
        const results = await db.batch(statements);
        for (const result of results) add(result.meta);
        return results;
      },
    },
  };
}
