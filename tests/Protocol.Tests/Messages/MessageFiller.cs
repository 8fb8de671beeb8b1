using System.Collections;
using System.Reflection;
using Broker.Protocol.Generator;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Tests.Messages;

/// <summary>
/// Builds generated message instances by reflection, guided by the specs: every field present in
/// the requested version gets a random non-default value (null only where that version allows it),
/// fields absent from the version keep their defaults so that Write must not throw.
/// </summary>
internal sealed class MessageFiller(MessageSpec spec, Random random)
{
    public static Type MessageType(MessageSpec spec) =>
        typeof(ApiMessages).Assembly.GetType("Broker.Protocol.Messages." + spec.Name, throwOnError: true)!;

    public IMessage Create(short version)
    {
        Type type = MessageType(spec);
        var message = (IMessage)Activator.CreateInstance(type)!;
        Fill(message, spec.Root, version, depth: 0);
        return message;
    }

    private void Fill(object target, StructSpec s, short version, int depth)
    {
        Type type = target.GetType();
        foreach (FieldSpec f in s.Fields)
        {
            if (!f.Versions.Contains(version)) continue;
            PropertyInfo property = type.GetProperty(f.Name) ?? throw new InvalidOperationException($"{type.Name}.{f.Name} missing");
            bool nullable = f.NullableVersions.Contains(version);
            if (nullable && random.Next(5) == 0)
            {
                property.SetValue(target, null);
                continue;
            }
            property.SetValue(target, Value(f, property.PropertyType, version, depth));
        }
    }

    private object? Value(FieldSpec f, Type propertyType, short version, int depth)
    {
        if (f.IsArray)
        {
            var list = (IList)Activator.CreateInstance(propertyType)!;
            Type elementType = propertyType.GetGenericArguments()[0];
            int count = depth > 3 ? 1 : 1 + random.Next(2);
            for (int i = 0; i < count; i++)
                list.Add(Element(f.ElementType, elementType, f, version, depth + 1));
            return list;
        }
        return Element(f.Type, propertyType, f, version, depth + 1);
    }

    private object Element(string specType, Type type, FieldSpec f, short version, int depth)
    {
        switch (specType)
        {
            case "int8": return (sbyte)NonDefault(f, sbyte.MinValue, sbyte.MaxValue);
            case "int16": return (short)NonDefault(f, short.MinValue, short.MaxValue);
            case "uint16": return (ushort)NonDefault(f, 0, ushort.MaxValue);
            case "int32": return (int)NonDefault(f, int.MinValue, int.MaxValue);
            case "uint32": return (uint)NonDefault(f, 0, uint.MaxValue);
            case "int64": return random.NextInt64(long.MinValue, long.MaxValue) | 1;
            case "float64": return random.NextDouble() + 1;
            case "bool": return f.Default != "true";
            case "uuid":
            {
                Span<byte> b = stackalloc byte[16];
                random.NextBytes(b);
                b[0] |= 1;
                return new Guid(b);
            }
            case "string": return "s" + random.Next(100000) + (random.Next(4) == 0 ? "é✓" : "");
            case "bytes":
            {
                var bytes = new byte[1 + random.Next(8)];
                random.NextBytes(bytes);
                return bytes;
            }
            case "records":
            {
                var bytes = new byte[1 + random.Next(40)];
                random.NextBytes(bytes);
                return new MemoryRecords(bytes);
            }
        }
        Type structType = Nullable.GetUnderlyingType(type) ?? type;
        object instance = Activator.CreateInstance(structType)!;
        Fill(instance, spec.FindStruct(specType), version, depth);
        return instance;
    }

    /// <summary>A random value in range that differs from the field's default.</summary>
    private long NonDefault(FieldSpec f, long min, long max)
    {
        long def = f.Default is null || f.Default == "null" ? 0 : ParseDefault(f.Default);
        while (true)
        {
            long v = random.NextInt64(min, max + 1);
            if (v != def) return v;
        }
    }

    private static long ParseDefault(string text)
    {
        bool negative = text.StartsWith('-');
        string digits = negative ? text[1..] : text;
        long v = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? Convert.ToInt64(digits[2..], 16) : long.Parse(digits);
        return negative ? -v : v;
    }
}
