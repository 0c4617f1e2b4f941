using System.Text;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>
/// The only way XML from outside enters the SAML layer: no DTD (so no external entities and
/// no entity expansion, "billion laughs"), no resolver, a size and a nesting limit, and
/// whitespace kept because signatures cover it.
/// </summary>
internal static class SecureXml
{
    // Real responses nest about 8 levels deep; the limit keeps recursive canonicalization
    // and text reading away from stack exhaustion.
    public const int MaxDepth = 64;

    private static readonly byte[] DoctypeUtf8 = Encoding.UTF8.GetBytes("<!DOCTYPE");
    private static readonly byte[] DoctypeUtf16 = Encoding.Unicode.GetBytes("<!DOCTYPE");

    public static Result<XmlDocument, SamlFailure> Load(ReadOnlySpan<byte> xml, int maxBytes, string what)
    {
        if (xml.Length > maxBytes)
            return new SamlFailure(SamlFailureKind.TooLarge,
                $"The {what} is {xml.Length} bytes; at most {maxBytes} bytes are accepted.",
                maxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                xml.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (xml.IsEmpty)
            return new SamlFailure(SamlFailureKind.MalformedXml, $"The {what} is empty.");

        var bytes = xml.ToArray();
        try
        {
            // First pass: depth only. XmlDocument.Load has no depth limit of its own.
            using (var scan = XmlReader.Create(new MemoryStream(bytes, writable: false), Settings(maxBytes)))
            {
                while (scan.Read())
                    if (scan.Depth > MaxDepth)
                        return SamlFailure.Structure($"The {what} nests elements deeper than {MaxDepth} levels.");
            }

            var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
            using var reader = XmlReader.Create(new MemoryStream(bytes, writable: false), Settings(maxBytes));
            document.Load(reader);
            if (document.DocumentElement is null)
                return new SamlFailure(SamlFailureKind.MalformedXml, $"The {what} has no root element.");
            return document;
        }
        catch (XmlException) when (ContainsDoctype(bytes))
        {
            return new SamlFailure(SamlFailureKind.DtdProhibited,
                $"The {what} contains a DOCTYPE declaration; DTDs and entities are never accepted.");
        }
        catch (XmlException e)
        {
            // XmlException text names a line and position, never document content.
            return new SamlFailure(SamlFailureKind.MalformedXml,
                $"The {what} is not well-formed XML (line {e.LineNumber}, position {e.LinePosition}).");
        }
    }

    private static XmlReaderSettings Settings(int maxBytes) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersFromEntities = 0,
        MaxCharactersInDocument = maxBytes,
        IgnoreComments = false,
        IgnoreProcessingInstructions = false,
        IgnoreWhitespace = false,
        CloseInput = true,
    };

    private static bool ContainsDoctype(byte[] bytes) =>
        bytes.AsSpan().IndexOf(DoctypeUtf8) >= 0 || bytes.AsSpan().IndexOf(DoctypeUtf16) >= 0;

    /// <summary>
    /// The whole text of an element, every text node concatenated: a comment inside a value
    /// (<c>user@evil.com&lt;!----&gt;.acme.test</c>) never truncates it. Elements inside a value
    /// are refused rather than flattened.
    /// </summary>
    public static Result<string, SamlFailure> FullText(XmlElement element, string what)
    {
        var text = new StringBuilder();
        for (var child = element.FirstChild; child is not null; child = child.NextSibling)
        {
            switch (child.NodeType)
            {
                case XmlNodeType.Text:
                case XmlNodeType.CDATA:
                case XmlNodeType.Whitespace:
                case XmlNodeType.SignificantWhitespace:
                    text.Append(child.Value);
                    break;
                case XmlNodeType.Comment:
                case XmlNodeType.ProcessingInstruction:
                    break;
                default:
                    return SamlFailure.Structure($"{what} contains markup ({child.NodeType} '{child.LocalName}'); a plain text value is expected.");
            }
        }
        return text.ToString();
    }

    public static IEnumerable<XmlElement> ChildElements(XmlElement parent)
    {
        for (var child = parent.FirstChild; child is not null; child = child.NextSibling)
            if (child is XmlElement element) yield return element;
    }

    public static IEnumerable<XmlElement> ChildElements(XmlElement parent, string namespaceUri, string localName) =>
        ChildElements(parent).Where(e => e.LocalName == localName && e.NamespaceURI == namespaceUri);

    public static XmlElement? ChildElement(XmlElement parent, string namespaceUri, string localName) =>
        ChildElements(parent, namespaceUri, localName).FirstOrDefault();

    public static IEnumerable<XmlElement> DescendantsAndSelf(XmlElement root)
    {
        yield return root;
        foreach (var node in root.GetElementsByTagName("*").OfType<XmlElement>())
            yield return node;
    }

    /// <summary>The value of an attribute without a namespace, or null when it is absent.</summary>
    public static string? Attribute(XmlElement element, string name) =>
        element.GetAttributeNode(name) is { } attribute ? attribute.Value : null;
}
