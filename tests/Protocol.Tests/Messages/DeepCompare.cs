using System.Collections;
using Broker.Protocol.Generator;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Messages;

/// <summary>Compares two message instances field by field for the fields a version carries.</summary>
internal static class DeepCompare
{
    /// <summary>Returns the path of the first difference, or null; counts compared non-default leaves.</summary>
    public static string? Diff(MessageSpec spec, StructSpec s, object expected, object actual, short version, string path, ref int leaves)
    {
        foreach (FieldSpec f in s.Fields)
        {
            if (!f.Versions.Contains(version)) continue;
            var property = expected.GetType().GetProperty(f.Name)!;
            object? e = property.GetValue(expected);
            object? a = property.GetValue(actual);
            string? d = Value(spec, f, f.IsArray ? "[]" : f.Type, e, a, version, path + "." + f.Name, ref leaves);
            if (d is not null) return d;
        }
        return null;
    }

    private static string? Value(MessageSpec spec, FieldSpec f, string type, object? e, object? a, short version, string path, ref int leaves)
    {
        if (e is null || a is null) return e is null && a is null ? null : path + ": null mismatch";
        if (type == "[]")
        {
            var el = (IList)e;
            var al = (IList)a;
            if (el.Count != al.Count) return path + ": count " + el.Count + " vs " + al.Count;
            for (int i = 0; i < el.Count; i++)
            {
                string? d = Value(spec, f, f.ElementType, el[i], al[i], version, path + "[" + i + "]", ref leaves);
                if (d is not null) return d;
            }
            return null;
        }
        switch (e)
        {
            case byte[] eb:
                leaves++;
                return eb.AsSpan().SequenceEqual((byte[])a) ? null : path + ": bytes differ";
            case MemoryRecords er:
                leaves++;
                return er.Buffer.Span.SequenceEqual(((MemoryRecords)a).Buffer.Span) ? null : path + ": records differ";
        }
        if (SpecModel.IsPrimitiveOrBuiltin(type))
        {
            leaves++;
            return Equals(e, a) ? null : $"{path}: {e} vs {a}";
        }
        return Diff(spec, spec.FindStruct(type), e, a, version, path, ref leaves);
    }
}
