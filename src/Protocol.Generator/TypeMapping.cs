using System.Globalization;

namespace Broker.Protocol.Generator;

/// <summary>Spec types to C# types, literals and wire sizes (docs/contracts.md type mapping).</summary>
internal static class TypeMapping
{
    public static int? FixedSize(string type) => type switch
    {
        "int8" or "bool" => 1,
        "int16" or "uint16" => 2,
        "int32" or "uint32" => 4,
        "int64" or "float64" => 8,
        "uuid" => 16,
        _ => null,
    };

    public static string? PrimitiveCs(string type) => type switch
    {
        "int8" => "sbyte",
        "int16" => "short",
        "uint16" => "ushort",
        "int32" => "int",
        "uint32" => "uint",
        "int64" => "long",
        "float64" => "double",
        "bool" => "bool",
        "uuid" => "Guid",
        _ => null,
    };

    public static string ReaderMethod(string type) => type switch
    {
        "int8" => "ReadInt8",
        "int16" => "ReadInt16",
        "uint16" => "ReadUInt16",
        "int32" => "ReadInt32",
        "uint32" => "ReadUInt32",
        "int64" => "ReadInt64",
        "float64" => "ReadFloat64",
        "bool" => "ReadBool",
        "uuid" => "ReadUuid",
        _ => throw new InvalidOperationException(type),
    };

    public static string WriterMethod(string type) => "Write" + ReaderMethod(type)[4..];

    /// <summary>The C# literal for a numeric or bool default ("-1", "0x7fffffff", "true").</summary>
    public static string Literal(string type, string? text)
    {
        if (type == "bool") return text is "true" ? "true" : "false";
        if (type == "uuid") return "Guid.Empty";
        text = string.IsNullOrEmpty(text) ? "0" : text.Trim();
        if (type == "float64")
            return double.Parse(text, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture) + "d";
        bool negative = text.StartsWith('-');
        string digits = negative ? text[1..] : text;
        long value = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.Parse(digits[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : long.Parse(digits, CultureInfo.InvariantCulture);
        if (negative) value = -value;
        string v = value.ToString(CultureInfo.InvariantCulture);
        return type switch
        {
            "int8" => value < 0 ? $"(sbyte)({v})" : v,
            "int16" => value < 0 ? $"(short)({v})" : v,
            "uint16" => v,
            "int32" => v,
            "uint32" => v + "u",
            "int64" => v + "L",
            _ => throw new InvalidOperationException(type),
        };
    }
}
