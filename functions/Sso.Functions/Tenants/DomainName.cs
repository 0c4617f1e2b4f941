using System.Globalization;

namespace Sso.Functions.Tenants;

/// <summary>
/// Email domains, checked by syntax only (DESIGN.md §4): IDN to punycode, lower case, no
/// trailing dot. Reserved TLDs such as .test are fine: customers test with them.
/// </summary>
public static class DomainName
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    public static Result<string, DomainNameError> Normalize(string? candidate)
    {
        if (string.IsNullOrWhiteSpace(candidate)) return new DomainNameError("a domain is empty");
        var trimmed = candidate.Trim().TrimEnd('.');
        if (trimmed.Contains('@')) return new DomainNameError($"'{candidate}' is an email address, not a domain");
        string ascii;
        try
        {
            ascii = Idn.GetAscii(trimmed).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return new DomainNameError($"'{candidate}' is not a valid domain name");
        }
        if (ascii.Length > 253) return new DomainNameError($"'{candidate}' is longer than 253 characters");
        var labels = ascii.Split('.');
        if (labels.Length < 2) return new DomainNameError($"'{candidate}' has no top-level domain");
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                return new DomainNameError($"'{candidate}' is not a valid domain name");
        }
        if (labels[^1].All(char.IsAsciiDigit)) return new DomainNameError($"'{candidate}' looks like an IP address, not a domain");
        return ascii;
    }

    /// <summary>The normalized domain of an email address, or null when it has none.</summary>
    public static string? OfEmail(string? email)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        if (at <= 0 || at == email!.Length - 1) return null;
        return Normalize(email[(at + 1)..]) is { IsSuccess: true } domain ? domain.Value : null;
    }
}

public sealed record DomainNameError(string Message)
{
    public override string ToString() => Message;
}
