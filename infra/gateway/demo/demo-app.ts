import "../../../protocol/client";
