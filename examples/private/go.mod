module example.com/private

go 1.26

require golb.test/private/greeting v1.0.0
