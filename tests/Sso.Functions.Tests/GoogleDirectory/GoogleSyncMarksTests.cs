using Azure.Data.Tables;
using Sso.Functions.DirectorySync;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.GoogleDirectory;

/// <summary>
/// The marks of a sync run (who a page listed) are a few rows per page, not a row per user: on
/// Azurite every row of the directory's partition makes each write and point read in it slower,
/// and a row per user doubled a large directory's partition for the whole run (issue 17).
/// </summary>
public sealed class GoogleSyncMarksTests(GoogleDirectoryFixture fixture) : IClassFixture<GoogleDirectoryFixture>
{
    [Fact]
    public async Task A_page_of_500_ids_is_one_mark_row_and_reads_back_whole()
    {
        var store = fixture.App.Get<DirectorySyncStore>();
        var directoryId = new DirectoryId("dir_" + Guid.NewGuid().ToString("N"));
        var runId = "run_" + Guid.NewGuid().ToString("N");
        var page = Enumerable.Range(0, 500).Select(i => GoogleIds.User(i)).ToList();
        // Ids the JSON of a mark must carry as they are: quotes, separators, non-ASCII.
        List<string> odd = ["usr_g'quote", "usr_g|bar", "usr_g\"dq\n", "usr_gé😀", "grp_g,comma"];

        await store.MarkSeenAsync(directoryId, runId, "users", "first", page, default);
        await store.MarkSeenAsync(directoryId, runId, "users", "0123456789abcdef", odd, default);
        await store.MarkSeenAsync(directoryId, runId, "groups", "first", ["grp_g1", "grp_g2"], default);
        // A page delivered again replaces its own rows.
        await store.MarkSeenAsync(directoryId, runId, "users", "first", page, default);

        var users = await store.ListSeenAsync(directoryId, runId, "users", default);
        Assert.Equal(page.Concat(odd).Order(StringComparer.Ordinal), users.Order(StringComparer.Ordinal));
        Assert.Equal(["grp_g1", "grp_g2"], (await store.ListSeenAsync(directoryId, runId, "groups", default)).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await MarkRowsAsync(directoryId)).Count);

        await store.DeleteSeenAsync(directoryId, null, default);
        Assert.Empty(await MarkRowsAsync(directoryId));
        Assert.Empty(await store.ListSeenAsync(directoryId, runId, "users", default));
    }

    [Fact]
    public async Task Ids_beyond_what_one_row_holds_go_to_more_rows_of_the_same_page()
    {
        var store = fixture.App.Get<DirectorySyncStore>();
        var directoryId = new DirectoryId("dir_" + Guid.NewGuid().ToString("N"));
        var runId = "run_" + Guid.NewGuid().ToString("N");
        // 2,000 ids of 60 characters: about 130,000 characters of JSON, more than a string property holds.
        var ids = Enumerable.Range(0, 2000).Select(i => "usr_g" + i.ToString("D55")).ToList();

        await store.MarkSeenAsync(directoryId, runId, "users", "first", ids, default);

        Assert.Equal(ids.Order(StringComparer.Ordinal), (await store.ListSeenAsync(directoryId, runId, "users", default)).Order(StringComparer.Ordinal));
        Assert.InRange((await MarkRowsAsync(directoryId)).Count, 5, 10);
    }

    private async Task<List<TableEntity>> MarkRowsAsync(DirectoryId directoryId)
    {
        var table = await fixture.App.Get<TableStorage>().GetTableAsync(DirectoryPartitionWriter.TableName, default);
        return await table.QueryAsync<TableEntity>(TableKey.KindFilter(directoryId.Value, DirectorySyncStore.SeenKind)).ToListAsync();
    }

    private static class GoogleIds
    {
        public static string User(int i) => "usr_g" + (100000000000000000000m + i).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
