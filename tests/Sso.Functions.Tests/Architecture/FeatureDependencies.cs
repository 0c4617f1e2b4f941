using System.Reflection;
using System.Reflection.Emit;

namespace Sso.Functions.Tests.Architecture;

/// <summary>
/// Which feature folder of an assembly uses which other, read from the compiled code: base
/// types, interfaces, fields, properties, method signatures, locals, attributes and every type,
/// method and field token in the IL of every method body (lambdas and async state machines are
/// nested types, so they count for the folder of the type that holds them). Folder = namespace
/// segment after the assembly name; <c>DirectorySync</c> is the folder <c>Directory/</c>.
/// </summary>
public static class FeatureDependencies
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic
        | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The folder a type lives in, or null for types outside the assembly's namespaces.</summary>
    public static string? FolderOf(Type type, string root)
    {
        while (type.IsNested) type = type.DeclaringType!;
        var ns = type.Namespace;
        if (ns is null || !ns.StartsWith(root + ".", StringComparison.Ordinal)) return null;
        var folder = ns[(root.Length + 1)..].Split('.')[0];
        return folder == "DirectorySync" ? "Directory" : folder;
    }

    /// <summary>Every edge "from → to" between different folders, with one example of why.</summary>
    public static SortedDictionary<(string From, string To), string> Edges(
        Assembly assembly, string root, Func<Type, bool> isExempt)
    {
        var edges = new SortedDictionary<(string, string), string>();
        foreach (var type in assembly.GetTypes())
        {
            var from = FolderOf(type, root);
            if (from is null || isExempt(Outer(type))) continue;
            foreach (var (used, where) in UsedTypes(type))
            {
                foreach (var leaf in Flatten(used))
                {
                    if (leaf.Assembly != assembly || FolderOf(leaf, root) is not { } to || to == from) continue;
                    edges.TryAdd((from, to), $"{Outer(type).FullName} uses {Outer(leaf).FullName} ({where})");
                }
            }
        }
        return edges;
    }

    /// <summary>The types (outermost, by full name) of folders other than <paramref name="owner"/> that use <paramref name="target"/>.</summary>
    public static SortedSet<string> UsersOutside(Assembly assembly, string root, string owner, Type target, Func<Type, bool> isExempt)
    {
        var users = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type, root) is not { } from || from == owner || isExempt(Outer(type))) continue;
            if (UsedTypes(type).SelectMany(u => Flatten(u.Used)).Any(leaf => Outer(leaf) == target)) users.Add(Outer(type).FullName!);
        }
        return users;
    }

    /// <summary>The cycles among <paramref name="edges"/>, each as its strongly connected set of folders.</summary>
    public static List<SortedSet<string>> Cycles(IEnumerable<(string From, string To)> edges)
    {
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var (from, to) in edges)
        {
            graph.TryAdd(to, []);
            (graph.TryGetValue(from, out var next) ? next : graph[from] = []).Add(to);
        }
        // Tarjan's strongly connected components; a component of two or more folders is a cycle.
        var index = 0;
        var indexes = new Dictionary<string, int>();
        var lows = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<SortedSet<string>>();
        void Visit(string node)
        {
            indexes[node] = lows[node] = index++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in graph[node])
            {
                if (!indexes.ContainsKey(next)) { Visit(next); lows[node] = Math.Min(lows[node], lows[next]); }
                else if (onStack.Contains(next)) lows[node] = Math.Min(lows[node], indexes[next]);
            }
            if (lows[node] != indexes[node]) return;
            var component = new SortedSet<string>(StringComparer.Ordinal);
            string member;
            do { member = stack.Pop(); onStack.Remove(member); component.Add(member); } while (member != node);
            if (component.Count > 1) cycles.Add(component);
        }
        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
            if (!indexes.ContainsKey(node)) Visit(node);
        return cycles;
    }

    private static Type Outer(Type type)
    {
        while (type.IsNested) type = type.DeclaringType!;
        return type;
    }

    private static IEnumerable<Type> Flatten(Type type)
    {
        if (type.HasElementType) { foreach (var t in Flatten(type.GetElementType()!)) yield return t; yield break; }
        if (type.IsGenericParameter) yield break;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            yield return type.GetGenericTypeDefinition();
            foreach (var argument in type.GetGenericArguments())
                foreach (var t in Flatten(argument)) yield return t;
            yield break;
        }
        yield return type;
    }

    private static IEnumerable<(Type Used, string Where)> UsedTypes(Type type)
    {
        if (type.BaseType is { } baseType) yield return (baseType, "base type");
        foreach (var i in type.GetInterfaces()) yield return (i, "interface");
        foreach (var a in type.CustomAttributes) yield return (a.AttributeType, "attribute");
        foreach (var field in type.GetFields(Everything)) yield return (field.FieldType, "field " + field.Name);
        foreach (var property in type.GetProperties(Everything)) yield return (property.PropertyType, "property " + property.Name);
        var methods = type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything));
        foreach (var method in methods)
        {
            if (method is MethodInfo info) yield return (info.ReturnType, "return of " + method.Name);
            foreach (var parameter in method.GetParameters()) yield return (parameter.ParameterType, "parameter of " + method.Name);
            foreach (var a in method.CustomAttributes) yield return (a.AttributeType, "attribute on " + method.Name);
            var body = method.GetMethodBody();
            if (body is null) continue;
            foreach (var local in body.LocalVariables) yield return (local.LocalType, "local in " + method.Name);
            foreach (var used in IlTypes(method, body)) yield return (used, "code in " + method.Name);
        }
    }

    private static IEnumerable<Type> IlTypes(MethodBase method, MethodBody body)
    {
        var il = body.GetILAsByteArray() ?? [];
        var module = method.Module;
        var typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[position++]));
            var opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: position += 1; break;
                case OperandType.InlineVar: position += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: position += 8; break;
                case OperandType.InlineSwitch: position += 4 + 4 * BitConverter.ToInt32(il, position); break;
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, position);
                    position += 4;
                    MemberInfo? member;
                    try { member = module.ResolveMember(token, typeArguments, methodArguments); }
                    catch (ArgumentException) { member = null; }
                    switch (member)
                    {
                        case Type t: yield return t; break;
                        case MethodBase m when m.DeclaringType is { } owner:
                            yield return owner;
                            if (m is MethodInfo mi) yield return mi.ReturnType;
                            if (m.IsGenericMethod) foreach (var g in m.GetGenericArguments()) yield return g;
                            break;
                        case FieldInfo f when f.DeclaringType is { } owner:
                            yield return owner;
                            yield return f.FieldType;
                            break;
                    }
                    break;
                default: position += 4; break; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
            }
        }
    }
}
