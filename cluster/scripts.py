"""The Lua scripts that make the cluster's multi-key changes atomic, so correctness never depends on which
process runs them. Each takes every key it touches through KEYS (key names live in cluster/keys.py only)
and every value through ARGV; its header says which.
"""

# Queue a player, or (already queued elsewhere: a takeover) move their ticket here, keeping their wait.
# KEYS[1] queue (zset)  KEYS[2] tickets (hash)
# ARGV[1] user id  ARGV[2] username  ARGV[3] score  ARGV[4] instance
# ARGV[5] seconds the player has waited already (a ticket written again after Redis lost it)
# ARGV[6] ARGV[7] the player's rating (mu, sigma)
# Returns the seconds waited so far, as a string. The ticket is JSON {username, score, instance, queued_at,
# mu, sigma} (cluster.messages.QueueEntry reads it).
ADD_TICKET = """
local now = redis.call('TIME')
local at = tonumber(now[1]) + tonumber(now[2]) / 1000000
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  local ticket = cjson.decode(existing)
  ticket.instance = ARGV[4]
  redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(ticket))
  return tostring(at - ticket.queued_at)
end
local queued_at = at - tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], queued_at, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode({username = ARGV[2], score = tonumber(ARGV[3]),
                                                    instance = ARGV[4], queued_at = queued_at,
                                                    mu = tonumber(ARGV[6]), sigma = tonumber(ARGV[7])}))
return ARGV[5]
"""

# Take a player's ticket out, only if it is still this instance's (a takeover may have moved it).
# KEYS[1] queue (zset)  KEYS[2] tickets (hash)
# ARGV[1] user id  ARGV[2] instance
# Returns 1 if the ticket was taken out.
REMOVE_TICKET = """
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing and cjson.decode(existing).instance == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# Form a room: every player must still be queued; all leave the queue and get their seat, or nothing
# happens. Two matchmakers racing can never put a player in two rooms or create a room twice.
# KEYS[1] queue (zset)  KEYS[2] tickets (hash)  KEYS[3] the room's record  KEYS[4] its host's room set
# KEYS[5..] each player's seat key, in the order of ARGV[5..]
# ARGV[1] room id  ARGV[2] the room's record (RoomRecord)  ARGV[3] each player's seat (Seat)
# ARGV[4] the record's and seats' lifetime, ms (their host renews them)  ARGV[5..] the players' user ids
# Returns 1 if the room was formed.
CLAIM = """
for i = 5, #ARGV do
  if not redis.call('HGET', KEYS[2], ARGV[i]) then return 0 end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
for i = 5, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('SET', KEYS[i], ARGV[3], 'PX', ARGV[4])
end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
"""

# Take or renew the matchmaking lease.
# KEYS[1] the lease  ARGV[1] instance  ARGV[2] milliseconds
# Returns 1 if this instance holds the lease now.
LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Delete a key only while it holds the given value (with ARGV[2] = "prefix": only while it starts with it).
# KEYS[1] the key  ARGV[1] the value  ARGV[2] "exact" or "prefix"
# Returns 1 if the key was deleted.
DELETE_IF = """
local value = redis.call('GET', KEYS[1])
if value and (value == ARGV[1] or (ARGV[2] == 'prefix' and string.sub(value, 1, #ARGV[1]) == ARGV[1])) then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Count an event in a throttle's sliding window, unless the window is full.
# KEYS[1] the window (zset: event id -> milliseconds since the epoch, on Redis's clock)
# ARGV[1] the limit  ARGV[2] the period in milliseconds  ARGV[3] the event's id
# Returns 0 when counted, else the milliseconds until the oldest event leaves the window.
HIT_WINDOW = """
local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - at)
end
redis.call('ZADD', KEYS[1], at, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"""

# How many events a throttle's window holds now.
# KEYS[1] the window  ARGV[1] the period in milliseconds
COUNT_WINDOW = """
local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - tonumber(ARGV[1]))
return redis.call('ZCARD', KEYS[1])
"""

# Move a running room to another process: only if this process still hosts it and the other is alive.
# KEYS[1] the room's record  KEYS[2] the old host's room set  KEYS[3] the new host's room set
# KEYS[4] the hand-off (the room's state, for the new host)  KEYS[5] the new host's alive key
# KEYS[6] the new host's inbox  KEYS[7..] the seat keys of the players still seated
# ARGV[1] room id  ARGV[2] the old host  ARGV[3] the new record (RoomRecord)  ARGV[4] the room's state
# ARGV[5] how long the hand-off is kept, ms  ARGV[6] the seats' new value (Seat)  ARGV[7] the inbox's length
# ARGV[8] the record's and seats' lifetime, ms  ARGV[9..] the fields of the message to the new host
# (messages.AdoptRoom)
# Returns 1 if the room moved.
HAND_OFF = """
local record = redis.call('GET', KEYS[1])
if not record or cjson.decode(record).host ~= ARGV[2] then return 0 end
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[8])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5])
for i = 7, #KEYS do redis.call('SET', KEYS[i], ARGV[6], 'PX', ARGV[8]) end
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[7], '*', unpack(ARGV, 9))
return 1
"""

# Seat one player in a room of their own (practice) on its host: out of the queue, seated, the room recorded.
# KEYS[1] queue (zset)  KEYS[2] tickets (hash)  KEYS[3] the room's record  KEYS[4] its host's room set
# KEYS[5] the player's seat
# ARGV[1] room id  ARGV[2] the room's record (RoomRecord)  ARGV[3] the seat (Seat)  ARGV[4] user id
# ARGV[5] the record's and seat's lifetime, ms
SEAT_ALONE = """
redis.call('HDEL', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[1], ARGV[4])
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[5])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[5])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
"""

# Renew the lifetime of keys a process owns (its users' sessions and seats, its rooms' records).
# KEYS[1..] the keys  ARGV[1] the lifetime, ms
RENEW = """
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return #KEYS
"""

SCRIPTS = {"add_ticket": ADD_TICKET, "remove_ticket": REMOVE_TICKET, "claim": CLAIM, "lease": LEASE,
           "delete_if": DELETE_IF, "hit_window": HIT_WINDOW, "count_window": COUNT_WINDOW, "hand_off": HAND_OFF,
           "seat_alone": SEAT_ALONE, "renew": RENEW}
