using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Inbox.Processing;

/// <summary>
/// The unit's transaction, with EF Core's automatic savepoints off while it lives and put back as they were when
/// it is disposed, so the application's DbContext is left as the inbox found it.
/// </summary>
internal sealed class SavepointsOff : IDbContextTransaction
{
    private readonly DbContext _db;
    private readonly IDbContextTransaction _inner;
    private readonly bool _previous;

    public SavepointsOff(DbContext db, IDbContextTransaction inner)
    {
        _db = db;
        _inner = inner;
        _previous = db.Database.AutoSavepointsEnabled;
        db.Database.AutoSavepointsEnabled = false;
    }

    public Guid TransactionId => _inner.TransactionId;

    public void Commit() => _inner.Commit();

    public Task CommitAsync(CancellationToken cancellationToken = default) => _inner.CommitAsync(cancellationToken);

    public void Rollback() => _inner.Rollback();

    public Task RollbackAsync(CancellationToken cancellationToken = default) => _inner.RollbackAsync(cancellationToken);

    public void Dispose()
    {
        _inner.Dispose();
        _db.Database.AutoSavepointsEnabled = _previous;
    }

    public async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        _db.Database.AutoSavepointsEnabled = _previous;
    }
}
