namespace Inbox.Storage.Providers;

/// <summary>
/// The statements of one feature (the inbox, the outbox, the idempotency keys, the Kafka offsets) written once per
/// engine. A <see cref="StorageProvider"/> builds the set for its engine once per model and keeps it, so a feature asks
/// its provider for its statements instead of testing which database it is on.
/// </summary>
/// <typeparam name="T">The statement set: an object that holds the feature's SQL and runs it.</typeparam>
internal interface IStatementSet<out T>
    where T : class
{
    /// <summary>The feature's statements for PostgreSQL.</summary>
    T ForPostgreSql(StorageProvider provider);

    /// <summary>The feature's statements for SQLite.</summary>
    T ForSqlite(StorageProvider provider);
}
