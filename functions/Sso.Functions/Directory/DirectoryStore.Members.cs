using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Member-only group changes (DESIGN §4: concurrent member adds to one group do not contend). Each
/// membership is its own rows, so an add is an insert and a remove a delete; the group row is not
/// rewritten under its ETag. Every transaction carries a merge of a fresh membership revision into
/// the group row without an ETag condition: it makes the group's SCIM version change, and, since a
/// merge of a missing row fails, no member row can be added to a group deleted meanwhile (the
/// deletion fan-out relies on that).
/// </summary>
public sealed partial class DirectoryStore
{
    /// <summary>What a member-only change committed: the units that were real changes.</summary>
    public sealed record MemberChange(SaveOutcome Outcome, IReadOnlyList<WriteUnit> Applied);

    /// <summary>
    /// Commits membership units (<see cref="MembershipAddition"/>, <see cref="MembershipRemoval"/>), each
    /// with its events. A unit that is no change (the member was already there, or already gone) is
    /// dropped with its events and the rest committed, so each <c>user_added</c>/<c>user_removed</c>
    /// and <c>role_changed</c> is written once per real change. <paramref name="after"/> carries the
    /// new revision and time. <paramref name="ifMatch"/>: the client sent If-Match, so the group row
    /// must still be the one it saw (412 otherwise). <see cref="SaveOutcome.Stale"/> also when a member
    /// row changed under its ETag; the caller reads again.
    /// </summary>
    public async Task<MemberChange> ChangeMembersAsync(DirectoryGroup before, DirectoryGroup after, IReadOnlyList<WriteUnit> units, bool ifMatch,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var touch = new TableTransactionAction(TableTransactionActionType.UpdateMerge, after.ToMembersTouchEntity(), ifMatch ? before.ETag : ETag.All);
        var pending = new List<WriteUnit>(units);
        var applied = new List<WriteUnit>();
        var committed = new List<EventRecord>();
        var outcome = SaveOutcome.Saved;
        while (pending.Count > 0)
        {
            // The touch and as many whole units as fit in one transaction (100 actions).
            var actions = new List<TableTransactionAction> { touch };
            var owners = new List<WriteUnit?> { null };
            var batch = new List<WriteUnit>();
            foreach (var unit in pending)
            {
                var size = unit.Actions.Count + unit.Events.Count;
                if (actions.Count + size > 100 && batch.Count > 0) break;
                batch.Add(unit);
                actions.AddRange(unit.Actions);
                actions.AddRange(unit.Events.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e.ToOutboxEntity(before.DirectoryId.Value))));
                owners.AddRange(Enumerable.Repeat<WriteUnit?>(unit, size));
            }
            try
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
                applied.AddRange(batch);
                committed.AddRange(batch.SelectMany(u => u.Events));
                pending.RemoveRange(0, batch.Count);
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                var failed = e.FailedTransactionActionIndex is { } index && index < owners.Count ? owners[index] : null;
                var noChange = failed is not null
                               && (e.Status == 409 && failed.Actions[0].ActionType == TableTransactionActionType.Add
                                   || e.Status == 404 && failed.Actions[0].ActionType == TableTransactionActionType.Delete);
                if (noChange)
                {
                    // Already a member (409 on the insert) or already removed (404 on the delete): not a change.
                    pending.Remove(failed!);
                    continue;
                }
                // The group row (gone, or not the version If-Match named), a member row changed under
                // its ETag, or a failure the service did not place: the caller reads again.
                outcome = failed is null && e.Status == 404 ? SaveOutcome.NotFound : SaveOutcome.Stale;
                break;
            }
        }
        publisher.Post(TableName, before.DirectoryId.Value, committed);
        return new MemberChange(outcome, applied);
    }
}
