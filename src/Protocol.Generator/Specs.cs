using System.Text.Json;

namespace Broker.Protocol.Generator;

/// <summary>An inclusive version range; empty when Lowest &gt; Highest ("none" in the specs).</summary>
public readonly record struct VersionRange(short Lowest, short Highest)
{
    public static readonly VersionRange None = new(1, 0);
    public static readonly VersionRange All = new(0, short.MaxValue);

    public bool IsEmpty => Lowest > Highest;

    public bool Contains(short version) => version >= Lowest && version <= Highest;

    public VersionRange Intersect(VersionRange other)
    {
        var r = new VersionRange(Math.Max(Lowest, other.Lowest), Math.Min(Highest, other.Highest));
        return r.IsEmpty ? None : r;
    }

    /// <summary>Parses "none", "N", "N+", "A-B" as the specs write them.</summary>
    public static VersionRange Parse(string? text)
    {
        if (text is null) return None;
        text = text.Trim();
        if (text.Length == 0 || text == "none") return None;
        if (text.EndsWith('+')) return new VersionRange(short.Parse(text[..^1]), short.MaxValue);
        int dash = text.IndexOf('-');
        if (dash > 0) return new VersionRange(short.Parse(text[..dash]), short.Parse(text[(dash + 1)..]));
        short v = short.Parse(text);
        return new VersionRange(v, v);
    }

    public override string ToString() => IsEmpty ? "none" : Highest == short.MaxValue ? $"{Lowest}+" : $"{Lowest}-{Highest}";
}

/// <summary>One field of a spec (names already PascalCase).</summary>
public sealed class FieldSpec
{
    public required string Name { get; init; }
    /// <summary>The spec's type string: int32, string, []Foo, Foo, ...</summary>
    public required string Type { get; init; }
    public required VersionRange Versions { get; init; }
    public VersionRange NullableVersions { get; init; } = VersionRange.None;
    public VersionRange TaggedVersions { get; init; } = VersionRange.None;
    public int? Tag { get; init; }
    public bool Ignorable { get; init; }
    public string? Default { get; init; }
    /// <summary>Field-level override of the message's flexible versions (RequestHeader.ClientId).</summary>
    public VersionRange? FlexibleVersions { get; init; }
    /// <summary>Inline struct fields, when this field declares its struct.</summary>
    public List<FieldSpec>? Fields { get; init; }

    public bool IsArray => Type.StartsWith("[]", StringComparison.Ordinal);
    public string ElementType => IsArray ? Type[2..] : Type;
    public bool IsNullableAnywhere => !NullableVersions.IsEmpty;
    public bool IsTagged => Tag is not null;
    public bool IsStructType => !SpecModel.IsPrimitiveOrBuiltin(ElementType);
}

/// <summary>A struct: the message itself, an inline struct or a common struct.</summary>
public sealed class StructSpec
{
    public required string SpecName { get; init; }
    /// <summary>C# class name (SpecName unless that collides with a member name).</summary>
    public required string ClassName { get; set; }
    public required List<FieldSpec> Fields { get; init; }
    /// <summary>Versions in which this struct can occur (enclosing range for version checks).</summary>
    public required VersionRange Versions { get; set; }
    public bool UsedAsStructField { get; set; }
}

public sealed class MessageSpec
{
    public required string Name { get; init; }
    /// <summary>request, response, header or data.</summary>
    public required string Kind { get; init; }
    public short? ApiKey { get; init; }
    public required VersionRange ValidVersions { get; init; }
    public required VersionRange FlexibleVersions { get; init; }
    public required StructSpec Root { get; init; }
    /// <summary>Every nested struct (inline and common), flat, in declaration order.</summary>
    public List<StructSpec> Structs { get; } = new();
    /// <summary>Spec path relative to the specs root, with forward slashes.</summary>
    public required string SourcePath { get; init; }

    public short LowestFlexibleVersion => FlexibleVersions.IsEmpty ? short.MaxValue : FlexibleVersions.Lowest;

    public StructSpec FindStruct(string specName)
    {
        foreach (StructSpec s in Structs)
            if (s.SpecName == specName) return s;
        throw new InvalidOperationException($"{Name}: unknown struct type {specName}");
    }
}

public static class SpecModel
{
    private static readonly HashSet<string> Builtins = new(StringComparer.Ordinal)
    {
        "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "bool", "uuid", "string", "bytes", "records",
    };

    public static bool IsPrimitiveOrBuiltin(string type) => Builtins.Contains(type);

    public static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..];

    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Parses one spec file; the specs carry // comments, which the JSON reader skips.</summary>
    public static MessageSpec Parse(string json, string sourcePath)
    {
        using JsonDocument doc = JsonDocument.Parse(json, Options);
        JsonElement root = doc.RootElement;
        string name = root.GetProperty("name").GetString()!;
        string kind = root.GetProperty("type").GetString()!;
        short? apiKey = root.TryGetProperty("apiKey", out JsonElement k) ? (short)ReadInt(k) : null;
        VersionRange valid = VersionRange.Parse(root.GetProperty("validVersions").GetString());
        VersionRange flexible = root.TryGetProperty("flexibleVersions", out JsonElement f) ? VersionRange.Parse(f.GetString()) : VersionRange.None;
        List<FieldSpec> fields = ParseFields(root.GetProperty("fields"));
        var message = new MessageSpec
        {
            Name = name,
            Kind = kind,
            ApiKey = apiKey,
            ValidVersions = valid,
            FlexibleVersions = flexible,
            SourcePath = sourcePath,
            Root = new StructSpec { SpecName = name, ClassName = name, Fields = fields, Versions = valid },
        };
        // Common structs first so inline references can find them.
        var common = new Dictionary<string, StructSpec>(StringComparer.Ordinal);
        if (root.TryGetProperty("commonStructs", out JsonElement cs))
        {
            foreach (JsonElement c in cs.EnumerateArray())
            {
                string cname = c.GetProperty("name").GetString()!;
                VersionRange cv = c.TryGetProperty("versions", out JsonElement v) ? VersionRange.Parse(v.GetString()) : valid;
                common[cname] = new StructSpec { SpecName = cname, ClassName = cname, Fields = ParseFields(c.GetProperty("fields")), Versions = cv.Intersect(valid) };
            }
        }
        CollectStructs(message, fields, valid, common);
        foreach (StructSpec c in common.Values)
        {
            if (!message.Structs.Contains(c))
            {
                message.Structs.Add(c);
                CollectStructs(message, c.Fields, c.Versions, common);
            }
        }
        ResolveClassNames(message);
        return message;
    }

    private static void CollectStructs(MessageSpec message, List<FieldSpec> fields, VersionRange enclosing, Dictionary<string, StructSpec> common)
    {
        foreach (FieldSpec field in fields)
        {
            if (!field.IsStructType) continue;
            VersionRange within = field.Versions.Intersect(enclosing);
            StructSpec s;
            if (field.Fields is not null)
            {
                s = new StructSpec { SpecName = field.ElementType, ClassName = field.ElementType, Fields = field.Fields, Versions = within };
                message.Structs.Add(s);
                CollectStructs(message, field.Fields, within, common);
            }
            else if (common.TryGetValue(field.ElementType, out StructSpec? c))
            {
                s = c;
                if (!message.Structs.Contains(c))
                {
                    message.Structs.Add(c);
                    CollectStructs(message, c.Fields, c.Versions, common);
                }
            }
            else
            {
                throw new InvalidOperationException($"{message.Name}: field {field.Name} has unknown type {field.Type}");
            }
            if (!field.IsArray) s.UsedAsStructField = true;
        }
    }

    /// <summary>
    /// Structs are nested classes of the message; C# forbids a nested type named like a member of
    /// the same class or like its enclosing class, so such structs get a "Data" suffix.
    /// </summary>
    private static void ResolveClassNames(MessageSpec message)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal) { message.Name, "ApiKey", "LowestSupportedVersion", "HighestSupportedVersion", "LowestFlexibleVersion", "UnknownTaggedFields", "Read", "Write", "ComputeSize", "IsDefault" };
        foreach (FieldSpec f in message.Root.Fields) taken.Add(f.Name);
        foreach (StructSpec s in message.Structs)
        {
            bool ownField = false;
            foreach (FieldSpec f in s.Fields) ownField |= f.Name == s.SpecName;
            if (taken.Contains(s.SpecName) || ownField)
            {
                string candidate = s.SpecName + "Data";
                while (taken.Contains(candidate)) candidate += "_";
                s.ClassName = candidate;
            }
        }
    }

    /// <summary>A few specs write numbers as strings ("tag": "0").</summary>
    private static int ReadInt(JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? int.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : e.GetInt32();

    private static List<FieldSpec> ParseFields(JsonElement array)
    {
        var list = new List<FieldSpec>();
        foreach (JsonElement e in array.EnumerateArray())
        {
            string? def = null;
            if (e.TryGetProperty("default", out JsonElement d))
                def = d.ValueKind == JsonValueKind.String ? d.GetString() : d.GetRawText();
            var field = new FieldSpec
            {
                Name = Pascal(e.GetProperty("name").GetString()!),
                Type = e.GetProperty("type").GetString()!.Trim(),
                // A tagged field may omit "versions" (TransactionLogValue): it then exists in its tagged versions.
                Versions = VersionRange.Parse(e.TryGetProperty("versions", out JsonElement v) ? v.GetString()
                    : e.TryGetProperty("taggedVersions", out JsonElement tv) ? tv.GetString() : null),
                NullableVersions = e.TryGetProperty("nullableVersions", out JsonElement n) ? VersionRange.Parse(n.GetString()) : VersionRange.None,
                TaggedVersions = e.TryGetProperty("taggedVersions", out JsonElement t) ? VersionRange.Parse(t.GetString()) : VersionRange.None,
                Tag = e.TryGetProperty("tag", out JsonElement tag) ? ReadInt(tag) : null,
                Ignorable = e.TryGetProperty("ignorable", out JsonElement ig) && ig.GetBoolean(),
                Default = def,
                FlexibleVersions = e.TryGetProperty("flexibleVersions", out JsonElement fv) ? VersionRange.Parse(fv.GetString()) : null,
                Fields = e.TryGetProperty("fields", out JsonElement sub) ? ParseFields(sub) : null,
            };
            if (field.IsTagged && field.TaggedVersions != field.Versions)
                throw new InvalidOperationException($"field {field.Name}: tagged in only some of its versions is not supported");
            list.Add(field);
        }
        return list;
    }
}
