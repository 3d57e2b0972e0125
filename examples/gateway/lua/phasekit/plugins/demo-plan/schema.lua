-- The conf demo-plan takes, checked when the routes load (a bad one is refused, the old routes stay).
return {
  name = "demo-plan",
  fields = {
    { config = {
        type = "record",
        fields = {
          -- consumer username -> plan
          { plans = { type = "map", keys = { type = "string" }, values = { type = "string", one_of = { "free", "gold", "blocked" } }, default = {} } },
          { default_plan = { type = "string", one_of = { "free", "gold" }, default = "free" } },
          { header = { type = "string", match = "^[%w-]+$", default = "X-Plan" } },
        },
    } },
  },
}
