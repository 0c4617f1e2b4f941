using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>The outcome of a write that claims email domains.</summary>
public readonly record struct DomainSave(SaveOutcome Outcome, string? TakenDomain = null)
{
    public static DomainSave Saved => new(SaveOutcome.Saved);
}

/// <summary>
/// Tenants (table "tenants", one partition per tenant) and the email-domain claims that route
/// sign-ins to them (table "domains", one partition; the RowKey is the domain, so an insert
/// either claims it or fails with 409: uniqueness without read-then-write).
/// </summary>
public sealed class TenantStore(TableStorage storage, TimeProvider clock)
{
    public const string DomainPartition = "domains";

    /// <summary>
    /// How long an instance uses a tenant row (name, domains, settings) it read on the sign-in and
    /// SCIM paths without reading it again; a change made on this instance shows at once.
    /// </summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly InstanceCache<TenantId, Tenant> _cache = new(clock, CacheFor);

    /// <summary>
    /// <see cref="FindAsync"/> for the request paths (sign-in, SCIM role mapping), kept for
    /// <see cref="CacheFor"/>. Never for a read-modify-write, and not for queue work, which reads fresh.
    /// </summary>
    public Task<Tenant?> FindCachedAsync(TenantId id, CancellationToken cancellationToken) =>
        _cache.GetOrLoadAsync(id, token => FindAsync(id, token), cancellationToken);

    private readonly InstanceCache<string, DomainClaim> _claims = new(clock, CacheFor);

    /// <summary>
    /// <see cref="FindClaimAsync"/> for the sign-in policy, kept for <see cref="CacheFor"/> like the
    /// tenant row it is judged with; every claim written, verified or released on this instance
    /// shows at once. Never for a read-modify-write.
    /// </summary>
    public Task<DomainClaim?> FindClaimCachedAsync(string domain, CancellationToken cancellationToken) =>
        _claims.GetOrLoadAsync(domain, token => FindClaimAsync(domain, token), cancellationToken);

    private Task<TableClient> TenantsAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.Tenants, cancellationToken);

    private Task<TableClient> DomainsAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.Domains, cancellationToken);

    public async Task<Tenant?> FindAsync(TenantId id, CancellationToken cancellationToken)
    {
        var table = await TenantsAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, Tenant.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? Tenant.FromEntity(row.Value!) : null;
    }

    public async Task<(IReadOnlyList<Tenant> Tenants, string? NextCursor)> ListAsync(string? cursor, int limit,
        CancellationToken cancellationToken)
    {
        var table = await TenantsAsync(cancellationToken);
        var pages = table.QueryAsync<TableEntity>($"RowKey eq '{Tenant.RowKey}'", maxPerPage: limit, cancellationToken: cancellationToken)
            .AsPages(cursor, limit);
        await foreach (var page in pages)
            return (page.Values.Select(Tenant.FromEntity).ToList(), page.ContinuationToken);
        return ([], null);
    }

    public async Task<DomainClaim?> FindClaimAsync(string domain, CancellationToken cancellationToken)
    {
        var table = await DomainsAsync(cancellationToken);
        var claim = await table.GetEntityIfExistsAsync<TableEntity>(DomainPartition, TableKey.Escape(domain),
            cancellationToken: cancellationToken);
        return claim.HasValue ? DomainClaim.FromEntity(claim.Value!) : null;
    }

    /// <summary>The claims of a tenant's domains, in the tenant's order.</summary>
    public async Task<IReadOnlyList<DomainClaim>> ListClaimsAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var claims = new List<DomainClaim>();
        foreach (var domain in tenant.Domains)
            if (await FindClaimAsync(domain, cancellationToken) is { } claim && claim.TenantId == tenant.Id)
                claims.Add(claim);
        return claims;
    }

    public async Task<IReadOnlyList<DomainClaim>> ListVerifiedClaimsAsync(CancellationToken cancellationToken)
    {
        var table = await DomainsAsync(cancellationToken);
        var claims = new List<DomainClaim>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{DomainPartition}' and Status eq '{DomainStatus.Verified}'", cancellationToken: cancellationToken))
            claims.Add(DomainClaim.FromEntity(row));
        return claims;
    }

    /// <summary>Every claim still waiting for its DNS proof, of any tenant (one partition, filtered on the server).</summary>
    public async Task<IReadOnlyList<DomainClaim>> ListPendingClaimsAsync(CancellationToken cancellationToken)
    {
        var table = await DomainsAsync(cancellationToken);
        var claims = new List<DomainClaim>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{DomainPartition}' and Status eq '{DomainStatus.Pending}'", cancellationToken: cancellationToken))
            claims.Add(DomainClaim.FromEntity(row));
        return claims;
    }

    public async Task<SaveOutcome> SaveClaimAsync(DomainClaim before, DomainClaim after, CancellationToken cancellationToken)
    {
        var table = await DomainsAsync(cancellationToken);
        try
        {
            return await table.ReplaceIfMatchAsync(after.ToEntity(), before.ETag, cancellationToken);
        }
        finally
        {
            _claims.Invalidate(after.Domain);
        }
    }

    /// <summary>
    /// The tenant an email domain routes sign-ins to: the claiming tenant, unless it requires
    /// verified domains and this one is not verified.
    /// </summary>
    public async Task<Tenant?> FindSignInTenantAsync(string domain, CancellationToken cancellationToken)
    {
        if (await FindClaimAsync(domain, cancellationToken) is not { } claim) return null;
        if (await FindAsync(claim.TenantId, cancellationToken) is not { } tenant) return null;
        return tenant.Settings.RequireVerifiedDomains == true && !claim.IsVerified ? null : tenant;
    }

    /// <summary>Which tenant has claimed a (normalized) email domain, if any.</summary>
    public async Task<TenantId?> FindTenantIdByDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var table = await DomainsAsync(cancellationToken);
        var claim = await table.GetEntityIfExistsAsync<TableEntity>(DomainPartition, TableKey.Escape(domain),
            cancellationToken: cancellationToken);
        return claim.HasValue ? new TenantId(claim.Value!.GetString("TenantId")) : null;
    }

    public async Task<DomainSave> CreateAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        // Order: claim every domain first (an insert per domain, 409 if another tenant holds it),
        // then write the tenant. A failure releases the claims made here; a crash in between
        // leaves claims without a tenant, which DomainClaimSweep removes.
        var claimed = await ClaimAsync(tenant.Id, tenant.Domains, cancellationToken);
        if (claimed.Outcome != SaveOutcome.Saved) return claimed;
        try
        {
            var table = await TenantsAsync(cancellationToken);
            await table.AddEntityAsync(tenant.ToEntity(), cancellationToken);
            return DomainSave.Saved;
        }
        catch
        {
            await ReleaseAsync(tenant.Id, tenant.Domains, CancellationToken.None);
            throw;
        }
    }

    public async Task<DomainSave> ReplaceAsync(Tenant before, Tenant after, CancellationToken cancellationToken)
    {
        // Order: claim the added domains, replace the tenant row under its ETag, then release
        // the removed domains. Until the release, a removed domain still routes to this tenant.
        var added = after.Domains.Except(before.Domains).ToList();
        var removed = before.Domains.Except(after.Domains).ToList();
        var claimed = await ClaimAsync(after.Id, added, cancellationToken);
        if (claimed.Outcome != SaveOutcome.Saved) return claimed;
        try
        {
            var table = await TenantsAsync(cancellationToken);
            await table.UpdateEntityAsync(after.ToEntity(), before.ETag, TableUpdateMode.Replace, cancellationToken);
            _cache.Invalidate(after.Id);
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            await ReleaseAsync(after.Id, added, CancellationToken.None);
            return new DomainSave(e.Status == 412 ? SaveOutcome.Stale : SaveOutcome.NotFound);
        }
        catch
        {
            await ReleaseAsync(after.Id, added, CancellationToken.None);
            throw;
        }
        await ReleaseAsync(after.Id, removed, cancellationToken);
        return DomainSave.Saved;
    }

    public async Task<SaveOutcome> DeleteAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        // Order: the tenant row goes first, so a domain never routes to a deleted tenant for
        // longer than the release below takes (or, after a crash, than the sweep's interval).
        var table = await TenantsAsync(cancellationToken);
        var deleted = await table.DeleteIfMatchAsync(tenant.Id.Value, Tenant.RowKey, tenant.ETag, cancellationToken);
        _cache.Invalidate(tenant.Id);
        if (deleted != SaveOutcome.Saved) return deleted;
        await ReleaseAsync(tenant.Id, tenant.Domains, cancellationToken);
        return SaveOutcome.Saved;
    }

    private async Task<DomainSave> ClaimAsync(TenantId tenantId, IReadOnlyList<string> domains, CancellationToken cancellationToken)
    {
        var table = await DomainsAsync(cancellationToken);
        var claimed = new List<string>();
        foreach (var domain in domains)
        {
            try
            {
                await table.AddEntityAsync(DomainClaim.New(domain, tenantId).ToEntity(), cancellationToken);
                _claims.Invalidate(domain);
                claimed.Add(domain);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                await ReleaseAsync(tenantId, claimed, CancellationToken.None);
                return new DomainSave(SaveOutcome.AlreadyExists, domain);
            }
            catch
            {
                await ReleaseAsync(tenantId, claimed, CancellationToken.None);
                throw;
            }
        }
        return DomainSave.Saved;
    }

    /// <summary>Deletes the claims that this tenant holds; claims another tenant holds are left alone.</summary>
    private async Task ReleaseAsync(TenantId tenantId, IReadOnlyList<string> domains, CancellationToken cancellationToken)
    {
        if (domains.Count == 0) return;
        var table = await DomainsAsync(cancellationToken);
        foreach (var domain in domains)
        {
            var claim = await table.GetEntityIfExistsAsync<TableEntity>(DomainPartition, TableKey.Escape(domain),
                cancellationToken: cancellationToken);
            if (!claim.HasValue || claim.Value!.GetString("TenantId") != tenantId.Value) continue;
            try
            {
                await table.DeleteEntityAsync(DomainPartition, claim.Value.RowKey, claim.Value.ETag, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
            finally
            {
                _claims.Invalidate(domain);
            }
        }
    }

    /// <summary>Removes claims whose tenant no longer exists and that are older than <paramref name="grace"/>.</summary>
    public async Task<int> SweepOrphanedClaimsAsync(DateTimeOffset now, TimeSpan grace, CancellationToken cancellationToken)
    {
        var domains = await DomainsAsync(cancellationToken);
        var removed = 0;
        await foreach (var claim in domains.QueryAsync<TableEntity>($"PartitionKey eq '{DomainPartition}'",
                           cancellationToken: cancellationToken))
        {
            if (claim.Timestamp is { } written && now - written < grace) continue;
            if (await FindAsync(new TenantId(claim.GetString("TenantId")), cancellationToken) is not null) continue;
            try
            {
                await domains.DeleteEntityAsync(DomainPartition, claim.RowKey, claim.ETag, cancellationToken);
                _claims.Invalidate(DomainClaim.FromEntity(claim).Domain);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
        return removed;
    }
}
