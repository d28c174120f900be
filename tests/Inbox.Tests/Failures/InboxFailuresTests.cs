using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Inbox.Tests.Failures;

public sealed class InboxFailuresTests
{
    public static TheoryData<string, Exception> StoreFailures => new()
    {
        { "refused connection", new NpgsqlException("Failed to connect to 127.0.0.1:5433", new SocketException((int)SocketError.ConnectionRefused)) },
        { "57P01 admin shutdown", Postgres("57P01") },
        { "57P03 cannot connect now", Postgres("57P03") },
        { "08006 connection failure", Postgres("08006") },
        { "53300 too many connections", Postgres("53300") },
        { "40P01 deadlock", Postgres("40P01") },
        { "read timeout", new NpgsqlException("Exception while reading from stream", new TimeoutException()) },
        { "SaveChanges wrapping a broken connection", new DbUpdateException("An error occurred while saving", Postgres("57P01")) },
        { "EF Core's retries exhausted", new RetryLimitExceededException("retries exhausted", Postgres("08006")) },
        { "EF Core's transient-failure wrapper", new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", Postgres("57P03")) },
        { "an aggregate holding one", new AggregateException(new InvalidOperationException("other"), Postgres("57P01")) },
        { "SQLite busy", new SqliteException("database is locked", 5) },
        { "SQLite locked", new SqliteException("database table is locked", 6) },
    };

    public static TheoryData<string, Exception> HandlerFailures => new()
    {
        { "the handler's own exception", new InvalidOperationException("the consumer is broken") },
        { "a unique violation", new DbUpdateException("duplicate key", Postgres("23505")) },
        { "a missing table", Postgres("42P01") },
        { "SQLite constraint", new SqliteException("UNIQUE constraint failed", 19) },
        { "a bare timeout from the handler's HTTP call", new TimeoutException("the payment API did not answer") },
    };

    [Theory]
    [MemberData(nameof(StoreFailures))]
    public void Classify_TransientDatabaseFailure_IsTheStores(string what, Exception exception)
        => Assert.True(InboxFailures.Classify(exception) == InboxFailureKind.Store, what);

    [Theory]
    [MemberData(nameof(HandlerFailures))]
    public void Classify_AnythingElse_IsTheHandlers(string what, Exception exception)
        => Assert.True(InboxFailures.Classify(exception) == InboxFailureKind.Handler, what);

    [Fact]
    public void Classify_BadInput_IsTheInputs()
    {
        Assert.Equal(InboxFailureKind.Input, InboxFailures.Classify(new InvalidInboxInputException("no ID", "messageId")));
        Assert.Equal(InboxFailureKind.Input, InboxFailures.Classify(new InboxConflictException("ID reused")));
        Assert.Equal(InboxFailureKind.Input, InboxFailures.Classify(new LateMessageException("too late")));
    }

    [Fact]
    public void Classify_Null_ThrowsWithParameterName()
        => Assert.Equal("exception", Assert.Throws<ArgumentNullException>(() => InboxFailures.Classify(null!)).ParamName);

    private static PostgresException Postgres(string sqlState) => new("server says no", "FATAL", "FATAL", sqlState);
}
