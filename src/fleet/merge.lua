-- Folds a host's changes into one account's shared record, atomically (Redis runs a script
-- alone): concurrent hosts can neither lose nor shorten each other's findings.
--
-- KEYS[1]  the account's record (JSON, see src/fleet/record.rs)
-- ARGV[1]  the changes: a JSON array of ops (exhausted, dead, clear, model, clear_model)
-- ARGV[2]  now, epoch seconds
-- ARGV[3]  the channel told of every change
-- ARGV[4]  seconds a clear or a dead mark is remembered after it was made
-- ARGV[5]  the most model cooldowns an account keeps
-- Returns {1 if the record changed else 0, the record as stored (or "" when deleted)}.

local now = tonumber(ARGV[2])
local remember = tonumber(ARGV[4])
local max_models = tonumber(ARGV[5])

local function number(x)
  if type(x) == 'number' then return x end
  return nil
end

-- A mark that is still in force (and well-formed: a record another writer mangled loses the
-- marks it mangled, never the script).
local function live(mark)
  return type(mark) == 'table' and number(mark['until']) ~= nil and mark['until'] > now
    and number(mark.at) ~= nil
end

local record = {}
-- A key of another type (not rotor's) reads as no record, and is replaced.
local raw = redis.pcall('GET', KEYS[1])
if type(raw) == 'table' then raw = false end
if raw then
  local ok, value = pcall(cjson.decode, raw)
  if ok and type(value) == 'table' then record = value end
end
if type(record.models) ~= 'table' then record.models = {} end
if not live(record.exhausted) then record.exhausted = nil end
local count = 0
for name, mark in pairs(record.models) do
  if live(mark) then count = count + 1 else record.models[name] = nil end
end
if type(record.cleared) ~= 'table' or number(record.cleared.at) == nil then record.cleared = nil end
if type(record.dead) ~= 'table' or number(record.dead.at) == nil then record.dead = nil end

-- When the last clear was made; of model cooldowns, the last clear that took them too.
local function cleared_at(models)
  local c = record.cleared
  if c == nil then return -1 end
  if models and c.models ~= true then return number(c.models_at) or -1 end
  return c.at
end

local changed = false
local ok, ops = pcall(cjson.decode, ARGV[1])
if not ok or type(ops) ~= 'table' then return redis.error_reply('rotor: ops are not a JSON array') end
for _, op in ipairs(ops) do
  local kind = op.op
  op.op = nil
  if kind == 'exhausted' then
    -- Older than the last clear: written by a host that had not seen it. Else the later end wins.
    if number(op.at) and op.at > cleared_at(false) and live(op) then
      if record.exhausted == nil or record.exhausted['until'] < op['until'] then
        record.exhausted = op
        changed = true
      elseif record.exhausted.at < op.at then
        -- Shorter but newer: the account was found exhausted later than the mark says, so a
        -- clear made in between (arriving late) must not undo it. The longer end stays.
        record.exhausted.at = op.at
        changed = true
      end
    end
  elseif kind == 'dead' then
    -- The first finding of one credential stands; a newer credential's replaces it.
    local d = record.dead
    if number(op.at) and (d == nil or (d.credential ~= op.credential and d.at < op.at)) then
      record.dead = op
      changed = true
    end
  elseif kind == 'clear' then
    if number(op.at) and op.at > cleared_at(false) then
      -- A probe's clear (models false) must not forget an operator's earlier clear of models.
      if op.models ~= true then op.models_at = cleared_at(true) end
      record.cleared = op
      if record.exhausted ~= nil and record.exhausted.at < op.at then record.exhausted = nil end
      if op.models == true then
        for name, mark in pairs(record.models) do
          if mark.at < op.at then record.models[name] = nil; count = count - 1 end
        end
      end
      changed = true
    end
  elseif kind == 'model' then
    local name = op.model
    op.model = nil
    local current = type(name) == 'string' and record.models[name] or nil
    if type(name) == 'string' and number(op.at) and op.at > cleared_at(true) and live(op)
        and (current ~= nil or count < max_models)
        and (current == nil or current['until'] < op['until']) then
      if current == nil then count = count + 1 end
      record.models[name] = op
      changed = true
    elseif current ~= nil and number(op.at) and live(op) and current.at < op.at then
      current.at = op.at
      changed = true
    end
  elseif kind == 'clear_model' then
    local current = type(op.model) == 'string' and record.models[op.model] or nil
    if current ~= nil and number(op.at) and current.at < op.at then
      record.models[op.model] = nil
      count = count - 1
      changed = true
    end
  end
end

-- The record lives as long as its longest finding: a cooldown to its end, a clear or a dead
-- mark for `remember` seconds.
local expires = 0
if record.exhausted ~= nil then expires = math.max(expires, record.exhausted['until']) end
for _, mark in pairs(record.models) do expires = math.max(expires, mark['until']) end
if record.dead ~= nil then expires = math.max(expires, record.dead.at + remember) end
if record.cleared ~= nil then expires = math.max(expires, record.cleared.at + remember) end
if next(record.models) == nil then record.models = nil end

if expires <= now then
  if raw then redis.call('DEL', KEYS[1]) end
  if changed then redis.call('PUBLISH', ARGV[3], KEYS[1]) end
  return {changed and 1 or 0, ''}
end
local stored = cjson.encode(record)
if changed or stored ~= raw then
  redis.call('SET', KEYS[1], stored, 'PXAT', math.ceil(expires * 1000))
end
if changed then redis.call('PUBLISH', ARGV[3], KEYS[1]) end
return {changed and 1 or 0, stored}
