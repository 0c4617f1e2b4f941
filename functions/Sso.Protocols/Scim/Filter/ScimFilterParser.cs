using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sso.Protocols.Scim.Filter;

/// <summary>
/// Parses the filter grammar of RFC 7644 §3.4.2.2: attribute expressions, <c>and</c>/<c>or</c>/<c>not</c>
/// with the precedence not &gt; and &gt; or, parentheses and value paths. Operators, literals and attribute
/// names are case-insensitive; every syntax error is an <c>invalidFilter</c>.
/// </summary>
public static partial class ScimFilterParser
{
    public const int MaxLength = 4096;
    private const int MaxDepth = 32;

    public static Result<ScimFilter, ScimError> Parse(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter)) return ScimError.InvalidFilter("The filter is empty.");
        if (filter.Length > MaxLength) return ScimError.InvalidFilter($"The filter is longer than {MaxLength} characters.");
        var cursor = new Cursor(filter);
        var parsed = cursor.ParseOr(depth: 0, insideValuePath: false);
        if (!parsed.IsSuccess) return parsed.Error;
        cursor.SkipWhitespace();
        if (!cursor.AtEnd) return cursor.Fail($"unexpected '{cursor.Rest(12)}'");
        return parsed.Value;
    }

    /// <summary>Parses an <c>attrPath</c> on its own ("name.givenName", "urn:…:User:manager.value").</summary>
    public static Result<ScimAttributePath, string> ParseAttributePath(string text)
    {
        if (string.IsNullOrEmpty(text)) return "the attribute path is empty";
        string? urn = null;
        var local = text;
        if (text.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            var colon = text.LastIndexOf(':');
            urn = text[..colon];
            local = text[(colon + 1)..];
            if (urn.Length <= 4) return $"'{text}' has no schema URN before the attribute name";
        }
        var dot = local.IndexOf('.');
        var name = dot < 0 ? local : local[..dot];
        var sub = dot < 0 ? null : local[(dot + 1)..];
        if (!AttributeName().IsMatch(name)) return $"'{name}' is not a valid attribute name";
        if (sub is not null && !AttributeName().IsMatch(sub)) return $"'{sub}' is not a valid sub-attribute name";
        return new ScimAttributePath(urn, name, sub);
    }

    // RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar); "$ref" is the one reserved name with a "$".
    [GeneratedRegex(@"^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex AttributeName();

    internal static bool IsPathChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is ':' or '.' or '_' or '-' or '$';

    internal sealed class Cursor(string text)
    {
        private int _position;

        public bool AtEnd => _position >= text.Length;
        public int Position => _position;
        public char Current => text[_position];
        public string Rest(int max) => text.Substring(_position, Math.Min(max, text.Length - _position));

        public ScimError Fail(string what) =>
            ScimError.InvalidFilter($"The filter is not valid at position {_position + 1}: {what}.");

        public void SkipWhitespace()
        {
            while (!AtEnd && char.IsWhiteSpace(Current)) _position++;
        }

        public bool TryChar(char c)
        {
            SkipWhitespace();
            if (AtEnd || Current != c) return false;
            _position++;
            return true;
        }

        /// <summary>Consumes a keyword followed by a delimiter (space, '(' or end); case-insensitive.</summary>
        private bool TryKeyword(string keyword)
        {
            SkipWhitespace();
            if (_position + keyword.Length > text.Length) return false;
            if (string.Compare(text, _position, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) != 0) return false;
            var end = _position + keyword.Length;
            if (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] != '(') return false;
            _position = end;
            return true;
        }

        public Result<ScimFilter, ScimError> ParseOr(int depth, bool insideValuePath)
        {
            if (depth > MaxDepth) return Fail("the filter is nested too deeply");
            var left = ParseAnd(depth, insideValuePath);
            if (!left.IsSuccess) return left;
            var result = left.Value;
            while (TryKeyword("or"))
            {
                var right = ParseAnd(depth, insideValuePath);
                if (!right.IsSuccess) return right;
                result = new ScimFilter.Or(result, right.Value);
            }
            return result;
        }

        private Result<ScimFilter, ScimError> ParseAnd(int depth, bool insideValuePath)
        {
            var left = ParseUnary(depth, insideValuePath);
            if (!left.IsSuccess) return left;
            var result = left.Value;
            while (TryKeyword("and"))
            {
                var right = ParseUnary(depth, insideValuePath);
                if (!right.IsSuccess) return right;
                result = new ScimFilter.And(result, right.Value);
            }
            return result;
        }

        private Result<ScimFilter, ScimError> ParseUnary(int depth, bool insideValuePath)
        {
            SkipWhitespace();
            if (AtEnd) return Fail("an expression is missing");
            var start = _position;
            if (TryKeyword("not"))
            {
                if (!TryChar('('))
                {
                    // "not" may also be the start of an attribute name such as "notes".
                    _position = start;
                }
                else
                {
                    var inner = ParseGroupRest(depth, insideValuePath);
                    return inner.IsSuccess ? new ScimFilter.Not(inner.Value) : inner;
                }
            }
            if (TryChar('(')) return ParseGroupRest(depth, insideValuePath);
            return ParseAttributeExpression(depth, insideValuePath);
        }

        private Result<ScimFilter, ScimError> ParseGroupRest(int depth, bool insideValuePath)
        {
            var inner = ParseOr(depth + 1, insideValuePath);
            if (!inner.IsSuccess) return inner;
            if (!TryChar(')')) return Fail("')' expected");
            return inner;
        }

        public Result<ScimAttributePath, ScimError> ReadAttributePath()
        {
            SkipWhitespace();
            var start = _position;
            while (!AtEnd && IsPathChar(Current)) _position++;
            if (start == _position) return Fail(AtEnd ? "an attribute name is missing" : $"'{Current}' is not the start of an attribute name");
            var path = ParseAttributePath(text[start.._position]);
            if (!path.IsSuccess) { _position = start; return Fail(path.Error); }
            return path.Value;
        }

        private Result<ScimFilter, ScimError> ParseAttributeExpression(int depth, bool insideValuePath)
        {
            var path = ReadAttributePath();
            if (!path.IsSuccess) return path.Error;

            if (!AtEnd && Current == '[')
            {
                if (insideValuePath) return Fail("value paths cannot be nested");
                if (path.Value.SubAttributeName is not null) return Fail($"'{path.Value}' has a sub-attribute before '['");
                _position++;
                var inner = ParseOr(depth + 1, insideValuePath: true);
                if (!inner.IsSuccess) return inner;
                if (!TryChar(']')) return Fail("']' expected");
                ScimFilter valuePath = new ScimFilter.ValuePath(path.Value, inner.Value);
                // Not in the RFC grammar, but sent by clients: emails[type eq "work"].value eq "x".
                if (!AtEnd && Current == '.')
                {
                    _position++;
                    var sub = ReadAttributePath();
                    if (!sub.IsSuccess) return sub.Error;
                    if (sub.Value.SchemaUrn is not null || sub.Value.SubAttributeName is not null)
                        return Fail($"'{sub.Value}' is not a sub-attribute name");
                    var comparison = ParseOperatorAndValue(sub.Value);
                    if (!comparison.IsSuccess) return comparison;
                    valuePath = new ScimFilter.ValuePath(path.Value, new ScimFilter.And(inner.Value, comparison.Value));
                }
                return valuePath;
            }
            return ParseOperatorAndValue(path.Value);
        }

        private Result<ScimFilter, ScimError> ParseOperatorAndValue(ScimAttributePath path)
        {
            SkipWhitespace();
            var start = _position;
            while (!AtEnd && char.IsAsciiLetter(Current)) _position++;
            var word = text[start.._position].ToLowerInvariant();
            if (word.Length == 0) { return Fail($"an operator is expected after '{path}'"); }
            if (word == "pr") return new ScimFilter.Present(path);
            ScimComparisonOperator? op = word switch
            {
                "eq" => ScimComparisonOperator.Eq, "ne" => ScimComparisonOperator.Ne,
                "co" => ScimComparisonOperator.Co, "sw" => ScimComparisonOperator.Sw,
                "ew" => ScimComparisonOperator.Ew, "gt" => ScimComparisonOperator.Gt,
                "ge" => ScimComparisonOperator.Ge, "lt" => ScimComparisonOperator.Lt,
                "le" => ScimComparisonOperator.Le, _ => null,
            };
            if (op is null) { _position = start; return Fail($"'{word}' is not an operator (eq ne co sw ew gt ge lt le pr)"); }
            var value = ReadValue();
            if (!value.IsSuccess) return value.Error;
            if (value.Value is null && op is not (ScimComparisonOperator.Eq or ScimComparisonOperator.Ne))
                return Fail($"'{word}' cannot compare with null");
            return new ScimFilter.Comparison(path, op.Value, value.Value);
        }

        private Result<JsonValue?, ScimError> ReadValue()
        {
            SkipWhitespace();
            if (AtEnd) return Fail("a value is missing");
            var start = _position;
            if (Current == '"')
            {
                _position++;
                while (!AtEnd && Current != '"')
                {
                    if (Current == '\\') _position++;
                    _position++;
                }
                if (AtEnd) { _position = start; return Fail("a string is not terminated"); }
                _position++;
                try
                {
                    var parsed = JsonNode.Parse(text.AsSpan(start, _position - start).ToString());
                    return parsed!.AsValue();
                }
                catch (JsonException)
                {
                    _position = start;
                    return Fail("a string has an invalid escape sequence");
                }
            }
            while (!AtEnd && (char.IsAsciiLetterOrDigit(Current) || Current is '-' or '+' or '.')) _position++;
            var word = text[start.._position];
            switch (word.ToLowerInvariant())
            {
                case "true": return JsonValue.Create(true);
                case "false": return JsonValue.Create(false);
                case "null": return (JsonValue?)null;
            }
            if (word.Length > 0 && (char.IsAsciiDigit(word[0]) || word[0] == '-')
                && decimal.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                return word.Contains('.') || word.Contains('e') || word.Contains('E')
                    ? JsonValue.Create(number)
                    : long.TryParse(word, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                        ? JsonValue.Create(integer) : JsonValue.Create(number);
            _position = start;
            return Fail(word.Length == 0
                ? "a value (a quoted string, number, true, false or null) is expected"
                : $"'{word}' is not a value; strings must be in double quotes");
        }
    }
}
