using System.Text;

namespace Sso.Functions.Storage;

/// <summary>
/// PartitionKey and RowKey values: Table Storage forbids '/', '\', '#', '?' and control
/// characters and caps a key at 1 KiB, so user values are percent-escaped before use.
/// </summary>
public static class TableKey
{
    public const int MaxLength = 1024;

    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' or '|' || char.IsControl(c))
                builder.Append('%').Append(((int)c).ToString("X2"));
            else
                builder.Append(c);
        }
        return builder.ToString();
    }

    public static string Unescape(string value) => Uri.UnescapeDataString(value);

    /// <summary>A row key of the form <c>kind|id</c>; <paramref name="id"/> is escaped.</summary>
    public static string Row(string kind, string id) => kind + "|" + Escape(id);

    /// <summary>The filter that selects every row of one kind in one partition.</summary>
    public static string KindFilter(string partitionKey, string kind) =>
        $"PartitionKey eq '{Quote(partitionKey)}' and RowKey ge '{Quote(kind)}|' and RowKey lt '{Quote(kind)}}}'";

    /// <summary>OData string literal escaping for filters built by hand.</summary>
    public static string Quote(string value) => value.Replace("'", "''");

    public static bool FitsInKey(string escaped) => Encoding.UTF8.GetByteCount(escaped) <= MaxLength;
}
