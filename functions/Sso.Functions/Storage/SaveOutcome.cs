namespace Sso.Functions.Storage;

/// <summary>What a conditional write did. Azure SDK failures stop at the store and become one of these.</summary>
public enum SaveOutcome
{
    Saved,
    /// <summary>Another writer changed the row first (412 on the ETag): read again and re-apply.</summary>
    Stale,
    /// <summary>A row or an index row with that key exists (409).</summary>
    AlreadyExists,
    NotFound,
}
