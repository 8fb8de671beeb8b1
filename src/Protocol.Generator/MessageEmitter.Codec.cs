namespace Broker.Protocol.Generator;

internal sealed partial class MessageEmitter
{
    private const string UnsupportedMessage = "throw new UnsupportedVersionException(";

    private void EmitVersionGuard()
    {
        _b.Line("if (version < LowestSupportedVersion || version > HighestSupportedVersion)");
        _b.Line($"    {UnsupportedMessage}$\"{message.Name} does not support version {{version}}\");");
    }

    // ---- Read ------------------------------------------------------------------------------

    private void EmitRead(StructSpec s, bool isRoot)
    {
        VersionRange e = s.Versions;
        _b.Open("public void Read(ref KafkaReader reader, short version)");
        if (isRoot) EmitVersionGuard();
        foreach (FieldSpec f in s.Fields)
        {
            if (f.IsTagged) continue;
            string? cond = Cond(f.Versions, e);
            if (cond == "false") continue;
            VersionRange inner = f.Versions.Intersect(e);
            if (cond is not null) _b.Open($"if ({cond})");
            EmitReadValue(f, BoolExpr(Flexible(f), inner), BoolExpr(f.NullableVersions, inner));
            if (cond is not null) _b.Close();
        }
        string flex = BoolExpr(message.FlexibleVersions, e);
        if (flex != "false")
        {
            VersionRange fe = message.FlexibleVersions.Intersect(e);
            if (flex != "true") _b.Open($"if ({flex})"); else _b.Open();
            _b.Line("List<RawTaggedField>? unknown = null;");
            _b.Line("uint taggedCount = reader.ReadUnsignedVarInt();");
            _b.Open("for (uint t = 0; t < taggedCount && !reader.Failed; t++)");
            _b.Line("uint tag = reader.ReadUnsignedVarInt();");
            _b.Line("int tagSize = reader.ReadTaggedFieldSize();");
            _b.Line("if (tagSize < 0) break;");
            _b.Open("switch (tag)");
            foreach (FieldSpec f in TaggedSorted(s))
            {
                string? tc = Cond(f.TaggedVersions, fe);
                if (tc == "false") continue;
                VersionRange inner = f.TaggedVersions.Intersect(fe);
                _b.Line($"case {f.Tag}:");
                _b.Open();
                if (tc is not null) _b.Open($"if ({tc})");
                _b.Line("int tagStart = reader.Position;");
                EmitReadValue(f, "true", BoolExpr(f.NullableVersions, inner));
                _b.Line("reader.EndTaggedField(tagStart, tagSize);");
                if (tc is not null)
                {
                    _b.Close();
                    _b.Line("else reader.ReadUnknownTaggedField(ref unknown, tag, tagSize);");
                }
                _b.Line("break;");
                _b.Close();
            }
            _b.Line("default:");
            _b.Line("    reader.ReadUnknownTaggedField(ref unknown, tag, tagSize);");
            _b.Line("    break;");
            _b.Close();
            _b.Close();
            _b.Line("UnknownTaggedFields = unknown;");
            _b.Close();
        }
        _b.Close();
    }

    private void EmitReadValue(FieldSpec f, string c, string n)
    {
        string p = f.Name;
        string bang = f.IsNullableAnywhere ? "" : "!";
        if (f.IsArray)
        {
            string count = Temp("count"), list = Temp("list"), i = Temp("i");
            string elem = f.ElementType;
            int min = TypeMapping.FixedSize(elem) ?? 1;
            _b.Open();
            _b.Line($"int {count} = reader.ReadArrayLength({c}, {n}, {min});");
            if (n != "false")
            {
                _b.Line($"if ({count} < 0) {p} = null;");
                _b.Open("else");
            }
            else
            {
                _b.Open();
            }
            // Reuse the list the property initialiser created (saves an allocation per array).
            _b.Line($"var {list} = {p} ?? new List<{ElementCs(elem)}>({count});");
            _b.Line($"{list}.Clear();");
            // Exact capacity: EnsureCapacity would round small counts up to 4.
            _b.Line($"if ({list}.Capacity < {count}) {list}.Capacity = {count};");
            _b.Open($"for (int {i} = 0; {i} < {count} && !reader.Failed; {i}++)");
            if (TypeMapping.PrimitiveCs(elem) is not null) _b.Line($"{list}.Add(reader.{TypeMapping.ReaderMethod(elem)}());");
            else if (elem == "string") _b.Line($"{list}.Add(reader.ReadString({c}, false)!);");
            else if (elem == "bytes") _b.Line($"{list}.Add(reader.ReadBytes({c}, false)!);");
            else
            {
                string e = Temp("e");
                _b.Line($"var {e} = new {StructClass(elem)}();");
                _b.Line($"{e}.Read(ref reader, version);");
                _b.Line($"{list}.Add({e});");
            }
            _b.Close();
            _b.Line($"{p} = {list};");
            _b.Close();
            _b.Close();
            return;
        }
        switch (f.Type)
        {
            case "string":
                _b.Line($"{p} = reader.ReadString({c}, {n}){bang};");
                return;
            case "bytes":
                _b.Line($"{p} = reader.ReadBytes({c}, {n}){bang};");
                return;
            case "records":
                _b.Line($"{p} = reader.ReadRecords({c}, {n});");
                return;
        }
        if (!f.IsStructType)
        {
            _b.Line($"{p} = reader.{TypeMapping.ReaderMethod(f.Type)}();");
            return;
        }
        // Nullable structs carry a marker byte: -1 for null, 1 for present (Kafka's generator).
        string cls = StructClass(f.Type), v = Temp("s");
        if (n != "false")
        {
            _b.Line(n == "true" ? "if (reader.ReadInt8() < 0)" : $"if ({n} && reader.ReadInt8() < 0)");
            _b.Line($"    {p} = null;");
            _b.Open("else");
        }
        else
        {
            _b.Open();
        }
        _b.Line($"var {v} = {p} ?? new {cls}();");
        _b.Line($"{v}.Read(ref reader, version);");
        _b.Line($"{p} = {v};");
        _b.Close();
    }

    // ---- Write -----------------------------------------------------------------------------

    private string ThrowNotInVersion(FieldSpec f) =>
        $"{UnsupportedMessage}$\"Attempted to write a non-default {f.Name} at version {{version}}\");";

    private void EmitWrite(StructSpec s, bool isRoot)
    {
        VersionRange e = s.Versions;
        _b.Open("public void Write(ref KafkaWriter writer, short version)");
        if (isRoot) EmitVersionGuard();
        foreach (FieldSpec f in s.Fields)
        {
            if (f.IsTagged)
            {
                string? tc = Cond(f.TaggedVersions.Intersect(message.FlexibleVersions), e);
                if (tc is null || f.Ignorable) continue;
                _b.Line(tc == "false" ? $"if ({NonDefault(f)})" : $"if (!({tc}) && {NonDefault(f)})");
                _b.Line("    " + ThrowNotInVersion(f));
                continue;
            }
            string? cond = Cond(f.Versions, e);
            VersionRange inner = f.Versions.Intersect(e);
            if (cond == "false")
            {
                if (f.Ignorable) continue;
                _b.Line($"if ({NonDefault(f)})");
                _b.Line("    " + ThrowNotInVersion(f));
                continue;
            }
            if (cond is not null) _b.Open($"if ({cond})");
            EmitWriteValue(f, BoolExpr(Flexible(f), inner), BoolExpr(f.NullableVersions, inner));
            if (cond is not null)
            {
                _b.Close();
                if (!f.Ignorable)
                {
                    _b.Line($"else if ({NonDefault(f)})");
                    _b.Line("    " + ThrowNotInVersion(f));
                }
            }
        }
        string flex = BoolExpr(message.FlexibleVersions, e);
        if (flex != "false")
        {
            VersionRange fe = message.FlexibleVersions.Intersect(e);
            if (flex != "true") _b.Open($"if ({flex})"); else _b.Open();
            _b.Line("int taggedCount = UnknownTaggedFields?.Count ?? 0;");
            var present = new Dictionary<FieldSpec, string>();
            foreach (FieldSpec f in TaggedSorted(s))
            {
                string? tc = Cond(f.TaggedVersions, fe);
                if (tc == "false") continue;
                string flag = Temp("writeTag");
                present[f] = flag;
                _b.Line($"bool {flag} = {(tc is null ? "" : $"({tc}) && ")}{NonDefault(f)};");
                _b.Line($"if ({flag}) taggedCount++;");
            }
            _b.Line("writer.WriteUnsignedVarInt((uint)taggedCount);");
            _b.Line("int unknownIndex = 0;");
            foreach (FieldSpec f in TaggedSorted(s))
            {
                if (!present.TryGetValue(f, out string? flag)) continue;
                VersionRange inner = f.TaggedVersions.Intersect(fe);
                string n = BoolExpr(f.NullableVersions, inner);
                _b.Line($"writer.WriteRawTaggedFields(UnknownTaggedFields, ref unknownIndex, {f.Tag});");
                _b.Open($"if ({flag})");
                string size = Temp("fieldSize");
                _b.Line($"int {size} = 0;");
                EmitSizeValue(f, "true", n, size);
                _b.Line($"writer.WriteUnsignedVarInt({f.Tag}u);");
                _b.Line($"writer.WriteUnsignedVarInt((uint){size});");
                EmitWriteValue(f, "true", n);
                _b.Close();
            }
            _b.Line("writer.WriteRawTaggedFields(UnknownTaggedFields, ref unknownIndex, long.MaxValue);");
            _b.Close();
        }
        _b.Close();
    }

    private void EmitWriteValue(FieldSpec f, string c, string n)
    {
        string p = f.Name;
        if (f.IsArray)
        {
            string list = Temp("list"), i = Temp("i");
            string elem = f.ElementType;
            _b.Open();
            _b.Line($"var {list} = {p};");
            string nullCount = n == "false" ? "0" : n == "true" ? "-1" : $"({n}) ? -1 : 0";
            _b.Line($"if ({list} is null) writer.WriteArrayLength({nullCount}, {c});");
            _b.Open("else");
            _b.Line($"writer.WriteArrayLength({list}.Count, {c});");
            _b.Open($"for (int {i} = 0; {i} < {list}.Count; {i}++)");
            if (TypeMapping.PrimitiveCs(elem) is not null) _b.Line($"writer.{TypeMapping.WriterMethod(elem)}({list}[{i}]);");
            else if (elem == "string") _b.Line($"writer.WriteString({list}[{i}], {c}, false);");
            else if (elem == "bytes") _b.Line($"writer.WriteBytes({list}[{i}], {c}, false);");
            else _b.Line($"{list}[{i}].Write(ref writer, version);");
            _b.Close();
            _b.Close();
            _b.Close();
            return;
        }
        switch (f.Type)
        {
            case "string":
                _b.Line($"writer.WriteString({p}, {c}, {n});");
                return;
            case "bytes":
                _b.Line($"writer.WriteBytes({p}, {c}, {n});");
                return;
            case "records":
                _b.Line($"writer.WriteRecords({p}, {c}, {n});");
                return;
        }
        if (!f.IsStructType)
        {
            _b.Line($"writer.{TypeMapping.WriterMethod(f.Type)}({p});");
            return;
        }
        string cls = StructClass(f.Type);
        if (n == "false")
        {
            _b.Line($"({p} ?? new {cls}()).Write(ref writer, version);");
        }
        else if (n == "true")
        {
            _b.Line($"if ({p} is null) writer.WriteInt8(-1);");
            _b.Open("else");
            _b.Line("writer.WriteInt8(1);");
            _b.Line($"{p}.Write(ref writer, version);");
            _b.Close();
        }
        else
        {
            _b.Open($"if ({p} is null)");
            _b.Line($"if ({n}) writer.WriteInt8(-1);");
            _b.Line($"else new {cls}().Write(ref writer, version);");
            _b.Close();
            _b.Open("else");
            _b.Line($"if ({n}) writer.WriteInt8(1);");
            _b.Line($"{p}.Write(ref writer, version);");
            _b.Close();
        }
    }

    // ---- ComputeSize -----------------------------------------------------------------------

    private void EmitComputeSize(StructSpec s)
    {
        VersionRange e = s.Versions;
        _b.Open("public int ComputeSize(short version)");
        _b.Line("int size = 0;");
        foreach (FieldSpec f in s.Fields)
        {
            if (f.IsTagged) continue;
            string? cond = Cond(f.Versions, e);
            if (cond == "false") continue;
            VersionRange inner = f.Versions.Intersect(e);
            if (cond is not null) _b.Open($"if ({cond})");
            EmitSizeValue(f, BoolExpr(Flexible(f), inner), BoolExpr(f.NullableVersions, inner), "size");
            if (cond is not null) _b.Close();
        }
        string flex = BoolExpr(message.FlexibleVersions, e);
        if (flex != "false")
        {
            VersionRange fe = message.FlexibleVersions.Intersect(e);
            if (flex != "true") _b.Open($"if ({flex})"); else _b.Open();
            _b.Line("int taggedCount = UnknownTaggedFields?.Count ?? 0;");
            foreach (FieldSpec f in TaggedSorted(s))
            {
                string? tc = Cond(f.TaggedVersions, fe);
                if (tc == "false") continue;
                VersionRange inner = f.TaggedVersions.Intersect(fe);
                _b.Open($"if ({(tc is null ? "" : $"({tc}) && ")}{NonDefault(f)})");
                string size = Temp("fieldSize");
                _b.Line("taggedCount++;");
                _b.Line($"int {size} = 0;");
                EmitSizeValue(f, "true", BoolExpr(f.NullableVersions, inner), size);
                _b.Line($"size += KafkaWriter.SizeOfUnsignedVarInt({f.Tag}u) + KafkaWriter.SizeOfUnsignedVarInt((uint){size}) + {size};");
                _b.Close();
            }
            _b.Line("size += KafkaWriter.SizeOfRawTaggedFields(UnknownTaggedFields);");
            _b.Line("size += KafkaWriter.SizeOfUnsignedVarInt((uint)taggedCount);");
            _b.Close();
        }
        _b.Line("return size;");
        _b.Close();
    }

    private void EmitSizeValue(FieldSpec f, string c, string n, string target)
    {
        string p = f.Name;
        if (f.IsArray)
        {
            string list = Temp("list"), i = Temp("i");
            string elem = f.ElementType;
            _b.Open();
            _b.Line($"var {list} = {p};");
            _b.Line($"if ({list} is null) {target} += KafkaWriter.SizeOfArrayLength(-1, {c});");
            _b.Open("else");
            _b.Line($"{target} += KafkaWriter.SizeOfArrayLength({list}.Count, {c});");
            if (TypeMapping.FixedSize(elem) is { } fixedSize)
            {
                _b.Line($"{target} += {list}.Count * {fixedSize};");
            }
            else
            {
                _b.Open($"for (int {i} = 0; {i} < {list}.Count; {i}++)");
                if (elem == "string") _b.Line($"{target} += KafkaWriter.SizeOfString({list}[{i}], {c});");
                else if (elem == "bytes") _b.Line($"{target} += KafkaWriter.SizeOfBytes({list}[{i}]?.Length ?? 0, {c});");
                else _b.Line($"{target} += {list}[{i}].ComputeSize(version);");
                _b.Close();
            }
            _b.Close();
            _b.Close();
            return;
        }
        switch (f.Type)
        {
            case "string":
                _b.Line($"{target} += KafkaWriter.SizeOfString({p}, {c});");
                return;
            case "bytes":
                _b.Line($"{target} += KafkaWriter.SizeOfBytes({p}?.Length ?? -1, {c});");
                return;
            case "records":
                _b.Line($"{target} += KafkaWriter.SizeOfRecords({p}, {c});");
                return;
        }
        if (!f.IsStructType)
        {
            _b.Line($"{target} += {TypeMapping.FixedSize(f.Type)};");
            return;
        }
        string cls = StructClass(f.Type);
        if (n == "false") _b.Line($"{target} += ({p} ?? new {cls}()).ComputeSize(version);");
        else if (n == "true") _b.Line($"{target} += {p} is null ? 1 : 1 + {p}.ComputeSize(version);");
        else _b.Line($"{target} += {p} is null ? (({n}) ? 1 : new {cls}().ComputeSize(version)) : (({n}) ? 1 : 0) + {p}.ComputeSize(version);");
    }

    // ---- IsDefault -------------------------------------------------------------------------

    private void EmitIsDefault(StructSpec s)
    {
        _b.Line("/// <summary>True when every field holds its default (decides whether a struct field is written).</summary>");
        _b.Open("public bool IsDefault()");
        var terms = new List<string>();
        foreach (FieldSpec f in s.Fields) terms.Add($"!{Paren(NonDefault(f))}");
        terms.Add("(UnknownTaggedFields is null || UnknownTaggedFields.Count == 0)");
        _b.Line("return " + string.Join("\n" + new string(' ', 12) + "&& ", terms) + ";");
        _b.Close();
    }
}
